import CMalloc

/// glibc malloc's settings and upkeep, for a fleet's page of tens of MB.
public enum Heap {
    private static let threshold: Int32 = 256 * 1024

    /// Large blocks come from mappings of their own. glibc does that from 128 KiB up, but
    /// raises the threshold (to 32 MiB at most) each time such a block is freed; from then on
    /// the page's family buffers, whose capacity NIO rounds up to a power of two, come from the
    /// heap, where the unused capacity and the holes freed buffers leave stay resident: 52 MiB
    /// at 10,000 clusters. In a mapping of its own, capacity never written is never resident,
    /// and a freed buffer goes back to the system at once.
    ///
    /// Call first in `main`. Its effect is measured by bench/run (RSS at 10,000 clusters): in a
    /// test process, a free chunk left in an arena can serve a large block without a mapping.
    public static func mapLargeBlocksSeparately() {
        _ = mallopt(M_MMAP_THRESHOLD, threshold)
    }

    /// Gives the free pages inside malloc's arenas back to the system. Rounds and folds leave
    /// holes between the blocks that live on (80 of 330 MB at 10,000 clusters after a first
    /// round), and glibc returns only the top of an arena by itself. Takes up to tens of ms on
    /// a large heap and locks each arena meanwhile: call it from a thread pool.
    static func releaseFreePages() {
        _ = malloc_trim(0)
    }
}
