/*
 * A C program that allocates as real programs do, and checks its own
 * results: a hash table of strings whose bucket array grows by realloc, a
 * string builder that grows by realloc, a search tree of nodes with
 * calloc'd payloads freed in random order, and aligned blocks. It exits
 * with 0 when every check passed. One block is kept until exit on purpose,
 * as programs keep their configuration: a leak for debug mode to report.
 *
 * Built for wasm32-wasi with shim.c, whose malloc and friends call
 * JavaScript (see build.ts).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned checks = 0;
static unsigned failures = 0;

#define CHECK(cond, what)                                      \
  do {                                                         \
    checks++;                                                  \
    if (!(cond)) {                                             \
      failures++;                                              \
      fprintf(stderr, "check failed (line %d): %s\n", __LINE__, what); \
    }                                                          \
  } while (0)

static void *must(void *ptr) {
  if (ptr == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  return ptr;
}

/* xorshift64*: the same sequence on every run. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_random(void) {
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

/* ── hash table: chained entries, buckets grown by realloc ──────────────── */

typedef struct Entry {
  struct Entry *next;
  char *key;
  uint64_t value;
} Entry;

typedef struct {
  Entry **buckets;
  size_t size;
  size_t count;
} Table;

static uint64_t hash(const char *key) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *key; key++) h = (h ^ (unsigned char)*key) * 0x100000001b3ull;
  return h;
}

static void table_grow(Table *t) {
  size_t old = t->size;
  t->buckets = must(realloc(t->buckets, 2 * old * sizeof(Entry *)));
  memset(t->buckets + old, 0, old * sizeof(Entry *));
  t->size = 2 * old;
  /* Each old chain splits between its bucket and the one `old` above it. */
  for (size_t i = 0; i < old; i++) {
    Entry **link = &t->buckets[i];
    while (*link) {
      Entry *e = *link;
      if ((hash(e->key) & (t->size - 1)) != i) {
        *link = e->next;
        e->next = t->buckets[i + old];
        t->buckets[i + old] = e;
      } else {
        link = &e->next;
      }
    }
  }
}

static Entry *table_find(Table *t, const char *key) {
  for (Entry *e = t->buckets[hash(key) & (t->size - 1)]; e; e = e->next) {
    if (strcmp(e->key, key) == 0) return e;
  }
  return NULL;
}

static void table_put(Table *t, const char *key, uint64_t value) {
  Entry *e = table_find(t, key);
  if (e) {
    e->value = value;
    return;
  }
  if (4 * (t->count + 1) > 3 * t->size) table_grow(t);
  e = must(malloc(sizeof *e));
  e->key = must(strdup(key));
  e->value = value;
  size_t i = hash(key) & (t->size - 1);
  e->next = t->buckets[i];
  t->buckets[i] = e;
  t->count++;
}

static void table_free(Table *t) {
  for (size_t i = 0; i < t->size; i++) {
    for (Entry *e = t->buckets[i], *next; e; e = next) {
      next = e->next;
      free(e->key);
      free(e);
    }
  }
  free(t->buckets);
}

static void test_table(void) {
  enum { N = 20000 };
  Table t = {must(calloc(8, sizeof(Entry *))), 8, 0};
  char key[32];
  for (uint32_t i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%u", i);
    table_put(&t, key, (uint64_t)i * i);
  }
  for (uint32_t i = 0; i < N; i += 3) {
    snprintf(key, sizeof key, "key-%u", i);
    table_put(&t, key, i + 1);
  }
  CHECK(t.count == N, "the table holds every key once");
  CHECK(t.size == 32768, "the buckets grew by doubling");
  unsigned right = 0;
  for (uint32_t i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%u", i);
    Entry *e = table_find(&t, key);
    right += e != NULL && e->value == (i % 3 == 0 ? i + 1 : (uint64_t)i * i);
  }
  CHECK(right == N, "every key has its value");
  CHECK(table_find(&t, "key-20000") == NULL, "a key never put is not found");
  table_free(&t);
}

/* ── string builder grown by realloc ────────────────────────────────────── */

typedef struct {
  char *data;
  size_t length;
  size_t capacity;
} Builder;

static void builder_append(Builder *b, const char *text, size_t n) {
  if (b->length + n + 1 > b->capacity) {
    size_t capacity = b->capacity ? b->capacity : 16;
    while (capacity < b->length + n + 1) capacity += capacity / 2;
    b->data = must(realloc(b->data, capacity));
    b->capacity = capacity;
  }
  memcpy(b->data + b->length, text, n);
  b->length += n;
  b->data[b->length] = '\0';
}

static void test_builder(void) {
  enum { N = 50000 };
  Builder b = {NULL, 0, 0};
  char number[16];
  size_t expected = 0;
  for (uint32_t i = 0; i < N; i++) {
    int n = snprintf(number, sizeof number, "%u,", i);
    builder_append(&b, number, (size_t)n);
    expected += (size_t)n;
  }
  CHECK(b.length == expected && strlen(b.data) == expected, "the string has every number");
  unsigned right = 0;
  const char *p = b.data;
  for (uint32_t i = 0; i < N; i++) {
    char *end;
    right += strtoul(p, &end, 10) == i && *end == ',';
    p = end + 1;
  }
  CHECK(right == N, "the numbers read back in order");
  free(b.data);
}

/* ── search tree of calloc'd payloads, freed in random order ────────────── */

typedef struct Node {
  struct Node *left, *right;
  uint32_t key;
  uint32_t length;
  unsigned char *payload;
} Node;

static Node *tree_insert(Node *root, Node *node) {
  Node **link = &root;
  while (*link) link = node->key < (*link)->key ? &(*link)->left : &(*link)->right;
  *link = node;
  return root;
}

static unsigned char byte_of(uint32_t key, uint32_t i) { return (unsigned char)(key * 31 + i); }

/* Visits in key order; returns how many nodes are in order with intact payloads. */
static unsigned tree_walk(Node *node, uint32_t *last) {
  if (!node) return 0;
  unsigned good = tree_walk(node->left, last);
  int intact = node->key >= *last;
  for (uint32_t i = 0; i < node->length; i++) intact &= node->payload[i] == byte_of(node->key, i);
  *last = node->key;
  return good + (unsigned)intact + tree_walk(node->right, last);
}

static void test_tree(void) {
  enum { N = 5000 };
  Node **nodes = must(malloc(N * sizeof *nodes));
  Node *root = NULL;
  unsigned zeroed = 0;
  for (uint32_t i = 0; i < N; i++) {
    Node *node = must(calloc(1, sizeof *node));
    node->key = next_random() % 100000;
    node->length = 1 + next_random() % 256;
    node->payload = must(calloc(node->length, 1));
    int clear = 1;
    for (uint32_t j = 0; j < node->length; j++) clear &= node->payload[j] == 0;
    zeroed += (unsigned)clear;
    for (uint32_t j = 0; j < node->length; j++) node->payload[j] = byte_of(node->key, j);
    root = tree_insert(root, node);
    nodes[i] = node;
  }
  CHECK(zeroed == N, "calloc gives zeroed payloads");
  uint32_t last = 0;
  CHECK(tree_walk(root, &last) == N, "the tree is in key order with every payload intact");
  for (uint32_t i = N - 1; i > 0; i--) {
    uint32_t j = next_random() % (i + 1);
    Node *swap = nodes[i];
    nodes[i] = nodes[j];
    nodes[j] = swap;
  }
  for (uint32_t i = 0; i < N; i++) {
    free(nodes[i]->payload);
    free(nodes[i]);
  }
  free(nodes);
}

/* ── aligned blocks ─────────────────────────────────────────────────────── */

static void test_aligned(void) {
  void *a = must(aligned_alloc(64, 1000));
  void *b = NULL;
  int status = posix_memalign(&b, 4096, 100);
  CHECK((uintptr_t)a % 64 == 0, "aligned_alloc keeps its alignment");
  CHECK(status == 0 && (uintptr_t)b % 4096 == 0, "posix_memalign keeps its alignment");
  CHECK(posix_memalign(&b, 3, 100) != 0, "posix_memalign refuses an alignment of 3");
  /* Kept in a volatile: a result only compared with NULL, the compiler assumes non-null. */
  static void *volatile none;
  none = malloc(SIZE_MAX - 64);
  CHECK(none == NULL, "an impossible size gets NULL");
  free(a);
  free(b);
  free(NULL);
}

/* Kept until exit, as programs keep their configuration: debug mode reports it. */
static char *settings;

static void keep_settings(void) {
  settings = must(malloc(1234));
  strcpy(settings, "kept until exit");
}

int main(void) {
  keep_settings();
  test_table();
  test_builder();
  test_tree();
  test_aligned();
  printf("c_malloc: %u checks, %u failed; settings \"%s\"\n", checks, failures, settings);
  return failures == 0 ? 0 : 1;
}
