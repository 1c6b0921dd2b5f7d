/*
 * C's allocation functions, served by JavaScript: each calls a function
 * that `wasmAllocatorImports` (from @mm/alloc) provides under the import
 * module "mm_alloc". Defining them here keeps libc's own allocator
 * (dlmalloc, in wasi-libc) out of the link.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#define IMPORT(name) __attribute__((import_module("mm_alloc"), import_name(name)))

IMPORT("malloc") void *mm_malloc(size_t size);
IMPORT("free") void mm_free(void *ptr);
IMPORT("calloc") void *mm_calloc(size_t count, size_t size);
IMPORT("realloc") void *mm_realloc(void *ptr, size_t size);
IMPORT("aligned_alloc") void *mm_aligned_alloc(size_t align, size_t size);

static void *checked(void *ptr) {
  if (ptr == NULL) errno = ENOMEM;
  return ptr;
}

void *malloc(size_t size) { return checked(mm_malloc(size)); }

void free(void *ptr) { mm_free(ptr); }

void *calloc(size_t count, size_t size) { return checked(mm_calloc(count, size)); }

void *realloc(void *ptr, size_t size) { return checked(mm_realloc(ptr, size)); }

void *aligned_alloc(size_t align, size_t size) {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  return checked(mm_aligned_alloc(align, size));
}

int posix_memalign(void **out, size_t align, size_t size) {
  if (align < sizeof(void *) || (align & (align - 1)) != 0) return EINVAL;
  void *ptr = mm_aligned_alloc(align, size);
  if (ptr == NULL) return ENOMEM;
  *out = ptr;
  return 0;
}
