import Glibc
import NIOCore

/// The page's cluster families: one buffer per family with its HELP and TYPE and every
/// cluster's samples of it, in the store's order. These buffers are what a scrape sends, and a
/// change is spliced into them, so the fleet's samples are held once (58 MB at 10,000 clusters),
/// not once per cluster and again in the page.
struct FleetSamples: Sendable {
    /// The cluster families, without the rule engine's alerts (the last of `allCases`).
    static let count = ClusterFamily.allCases.count - 1
    private static let headers: [[UInt8]] = ClusterFamily.allCases.prefix(count).map {
        Array(Exposition.header(name: $0.name, help: $0.help, type: $0.type).utf8)
    }

    /// The clusters held, in the store's order, and the version of each one's samples.
    private(set) var names: [String] = []
    private var versions: [UInt64] = []
    /// By position in `ClusterFamily.allCases`; empty for a family without samples.
    private(set) var families = [ByteBuffer](repeating: ByteBuffer(), count: count)
    /// Where each cluster's samples end in each family's buffer: `ends[family][cluster]`.
    private var ends = [[UInt32]](repeating: [], count: count)

    /// Makes the buffers show `entries`: a cluster whose stored version they already show is
    /// not touched; the others' samples come from `render` and replace theirs, a family at a
    /// time (only where the bytes differ), within the buffer when its capacity allows.
    /// `render` runs for at most `chunk` clusters before their samples are spliced in and let
    /// go, which bounds the memory a reconfigured large fleet needs.
    mutating func fold(_ entries: [SnapshotStore.Entry], chunk: Int = 1024, render: (SnapshotStore.Entry) -> RenderedCluster) {
        if !names.elementsEqual(entries.lazy.map(\.snapshot.name)) { reorder(entries) }
        let changed = entries.indices.filter { versions[$0] != entries[$0].version }
        var start = 0
        while start < changed.count {
            let positions = changed[start..<min(start + chunk, changed.count)]
            let rendered = positions.map { render(entries[$0]) }
            for family in 0..<Self.count { splice(family, positions: positions, rendered: rendered) }
            for position in positions { versions[position] = entries[position].version }
            start += chunk
        }
    }

    /// The byte range of `cluster`'s samples in `family`'s buffer.
    private func range(_ family: Int, _ cluster: Int) -> Range<Int> {
        let start = cluster > 0 ? Int(ends[family][cluster - 1]) : families[family].readableBytes == 0 ? 0 : Self.headers[family].count
        return start..<Int(ends[family][cluster])
    }

    /// Puts the rendered clusters' samples of one family in place of theirs.
    private mutating func splice(_ family: Int, positions: ArraySlice<Int>, rendered: [RenderedCluster]) {
        var edits: [(cluster: Int, samples: ArraySlice<UInt8>)] = []
        families[family].withUnsafeReadableBytes { old in
            for (cluster, new) in zip(positions, rendered) {
                let samples = new.bytes[new.range(family)]
                let held = range(family, cluster)
                let same = samples.count == held.count
                    && (held.isEmpty || samples.withUnsafeBytes { memcmp($0.baseAddress!, old.baseAddress! + held.lowerBound, held.count) == 0 })
                if !same { edits.append((cluster, samples)) }
            }
        }
        guard !edits.isEmpty else { return }
        let held = edits.map { range(family, $0.cluster) }
        let length = families[family].readableBytes + zip(edits, held).reduce(0) { $0 + $1.0.samples.count - $1.1.count }
        if families[family].readableBytes > 0, length > Self.headers[family].count, length <= families[family].capacity {
            splice(family, edits: edits, held: held, length: length)
            return
        }
        var next = 0
        (families[family], ends[family]) = rebuilt(family, count: names.count, held: { range(family, $0) }) { cluster in
            guard next < edits.count, edits[next].cluster == cluster else { return nil }
            defer { next += 1 }
            return edits[next].samples
        }
    }

    /// Splices within the buffer's capacity, so memory already written is written again (no
    /// new buffer, no page faults): the held samples after each edit move by the change in
    /// length before them, those moving left first from the left, then those moving right from
    /// the right, so that none is overwritten before it moved.
    private mutating func splice(_ family: Int, edits: [(cluster: Int, samples: ArraySlice<UInt8>)], held: [Range<Int>], length: Int) {
        let oldLength = families[family].readableBytes
        // The held run after each edit, and how far it moves.
        var shift = 0
        var moves: [(from: Range<Int>, by: Int)] = []
        moves.reserveCapacity(edits.count)
        for (index, edit) in edits.enumerated() {
            shift += edit.samples.count - held[index].count
            moves.append((held[index].upperBound..<(index + 1 < edits.count ? held[index + 1].lowerBound : oldLength), shift))
        }
        if length > oldLength { families[family].moveWriterIndex(to: length) }
        families[family].withUnsafeMutableReadableBytes { buffer in
            let base = buffer.baseAddress!
            for move in moves where move.by < 0 { memmove(base + move.from.lowerBound + move.by, base + move.from.lowerBound, move.from.count) }
            for move in moves.reversed() where move.by > 0 { memmove(base + move.from.lowerBound + move.by, base + move.from.lowerBound, move.from.count) }
            var before = 0
            for (index, edit) in edits.enumerated() {
                edit.samples.withUnsafeBytes { samples in
                    if let source = samples.baseAddress { (base + held[index].lowerBound + before).copyMemory(from: source, byteCount: samples.count) }
                }
                before = moves[index].by
            }
        }
        if length < oldLength { families[family].moveWriterIndex(to: length) }
        var next = 0
        shift = 0
        for cluster in ends[family].indices {
            if next < edits.count, edits[next].cluster == cluster {
                shift = moves[next].by
                next += 1
            }
            ends[family][cluster] = UInt32(Int(ends[family][cluster]) + shift)
        }
    }

    /// `family`'s buffer written anew, and its ends: each cluster's samples are
    /// `replacement(cluster)`, or else the ones held at `held(cluster)`. Held samples next to
    /// each other are copied at once.
    private func rebuilt(_ family: Int, count: Int, held: (Int) -> Range<Int>?,
                         replacement: (Int) -> ArraySlice<UInt8>?) -> (ByteBuffer, [UInt32]) {
        var runs: [(samples: ArraySlice<UInt8>?, held: Range<Int>?)] = []
        runs.reserveCapacity(count)
        var length = 0
        for cluster in 0..<count {
            let samples = replacement(cluster)
            let range = samples == nil ? held(cluster) : nil
            runs.append((samples, range))
            length += samples?.count ?? range?.count ?? 0
        }
        var out = ByteBuffer()
        var ends = [UInt32]()
        ends.reserveCapacity(count)
        if length > 0 {
            out.reserveCapacity(Self.headers[family].count + length)
            out.writeBytes(Self.headers[family])
        }
        families[family].withUnsafeReadableBytes { old in
            // Held samples are written when something else comes next.
            var pending: Range<Int>?
            func flush() {
                if let range = pending { out.writeBytes(UnsafeRawBufferPointer(rebasing: old[range])) }
                pending = nil
            }
            for run in runs {
                if let samples = run.samples {
                    flush()
                    out.writeBytes(samples)
                } else if let range = run.held, !range.isEmpty {
                    if let current = pending, current.upperBound == range.lowerBound {
                        pending = current.lowerBound..<range.upperBound
                    } else {
                        flush()
                        pending = range
                    }
                }
                ends.append(UInt32(out.writerIndex + (pending?.count ?? 0)))
            }
            flush()
        }
        return (out, ends)
    }

    /// Takes on the order and set of `entries`: kept clusters keep their samples and version,
    /// new ones start without samples and are rendered by the fold.
    private mutating func reorder(_ entries: [SnapshotStore.Entry]) {
        let old = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let from = entries.map { old[$0.snapshot.name] }
        for family in 0..<Self.count {
            (families[family], ends[family]) = rebuilt(family, count: entries.count, held: { from[$0].map { range(family, $0) } }) { _ in nil }
        }
        versions = from.map { $0.map { versions[$0] } ?? 0 }
        names = entries.map(\.snapshot.name)
    }
}
