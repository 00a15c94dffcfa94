#define _GNU_SOURCE
#include "startup_pages.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

struct collection {
    struct redis_ocsp_span *spans;
    size_t capacity;
    size_t count;
    uintptr_t page;
};

// The loader writes into the read-only segments of such an object: their pages are the
// process's own, not the file's.
static int has_text_relocations(const struct dl_phdr_info *info) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_DYNAMIC) continue;
        for (const ElfW(Dyn) *entry = (const ElfW(Dyn) *)(info->dlpi_addr + header->p_vaddr); entry->d_tag != DT_NULL; entry++) {
            if (entry->d_tag == DT_TEXTREL) return 1;
            if (entry->d_tag == DT_FLAGS && (entry->d_un.d_val & DF_TEXTREL)) return 1;
        }
    }
    return 0;
}

static int overlaps_relro(const struct dl_phdr_info *info, const ElfW(Phdr) *segment) {
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type == PT_GNU_RELRO && header->p_vaddr < segment->p_vaddr + segment->p_memsz
            && segment->p_vaddr < header->p_vaddr + header->p_memsz) return 1;
    }
    return 0;
}

static int collect(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct collection *collection = data;
    // The program itself has no name; the vDSO's is not a path.
    if (info->dlpi_name[0] != '\0' && info->dlpi_name[0] != '/') return 0;
    if (has_text_relocations(info)) return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *header = &info->dlpi_phdr[i];
        if (header->p_type != PT_LOAD || header->p_filesz == 0 || overlaps_relro(info, header)) continue;
        uintptr_t start = info->dlpi_addr + header->p_vaddr;
        // Only the bytes the file backs: past p_filesz, a segment's pages are zero-filled.
        uintptr_t end = start + header->p_filesz;
        // Rounded inwards, so a page another segment shares is left alone.
        start = (start + collection->page - 1) & ~(collection->page - 1);
        end &= ~(collection->page - 1);
        if (end <= start) continue;
        if (collection->count < collection->capacity) {
            collection->spans[collection->count] = (struct redis_ocsp_span){ start, end - start, (header->p_flags & PF_W) != 0 };
        }
        collection->count++;
    }
    return 0;
}

size_t redis_ocsp_file_spans(struct redis_ocsp_span *spans, size_t capacity) {
    struct collection collection = { spans, capacity, 0, (uintptr_t)sysconf(_SC_PAGESIZE) };
    dl_iterate_phdr(collect, &collection);
    return collection.count;
}
