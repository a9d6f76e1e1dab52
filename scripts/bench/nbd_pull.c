/* The benchmark's ceiling for the pull design (not the product): a minimal libnbd client that copies
 * the dirty clusters of one NBD export into another, as offline-export does, with requests in flight.
 *
 * It asks the source for base:allocation and the dirty bitmap's context in 1 GiB windows, keeps the
 * dirty ranges (zero ones become WRITE_ZEROES), then reads and writes them in pieces of at most
 * REQUEST bytes with IN_FLIGHT requests outstanding, and flushes the target.
 *
 * usage: nbd_pull SOURCE-URI TARGET-URI BITMAP [IN_FLIGHT [REQUEST]]
 */
#include <errno.h>
#include <libnbd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW (1ULL << 30)
#define STATE_HOLE_OR_ZERO 2 /* base:allocation: NBD_STATE_ZERO */

struct run { uint64_t offset, length; int zero; };
struct list { struct run *items; size_t count, capacity; };
struct extents { uint32_t *dirty, *alloc; size_t dirty_count, alloc_count; char *dirty_context; };
enum { FREE, READING, READ_DONE, WRITING };
struct slot { int state; struct run run; char *buffer; };

static void fail(const char *what) { fprintf(stderr, "nbd_pull: %s: %s\n", what, nbd_get_error()); exit(1); }

static void push(struct list *list, uint64_t offset, uint64_t length, int zero) {
  if (list->count > 0) {
    struct run *last = &list->items[list->count - 1];
    if (last->zero == zero && last->offset + last->length == offset) { last->length += length; return; }
  }
  if (list->count == list->capacity) {
    list->capacity = list->capacity ? list->capacity * 2 : 1024;
    list->items = realloc(list->items, list->capacity * sizeof *list->items);
    if (!list->items) { perror("realloc"); exit(1); }
  }
  list->items[list->count++] = (struct run){ offset, length, zero };
}

static uint32_t *copy_entries(uint32_t *entries, size_t count) {
  uint32_t *copy = malloc(count * sizeof *copy);
  if (!copy) { perror("malloc"); exit(1); }
  memcpy(copy, entries, count * sizeof *copy);
  return copy;
}

static int on_extents(void *user, const char *context, uint64_t offset, uint32_t *entries, size_t count, int *error) {
  struct extents *e = user;
  (void)offset; (void)error;
  if (strcmp(context, e->dirty_context) == 0) { e->dirty = copy_entries(entries, count); e->dirty_count = count; }
  else if (strcmp(context, "base:allocation") == 0) { e->alloc = copy_entries(entries, count); e->alloc_count = count; }
  return 0;
}

static uint64_t covered(const uint32_t *entries, size_t count) {
  uint64_t total = 0;
  for (size_t i = 0; i < count; i += 2) total += entries[i];
  return total;
}

/* Dirty ranges of [offset, offset + covered) split by allocation: data to copy or zeroes to write. */
static uint64_t walk_window(struct nbd_handle *source, char *dirty_context, uint64_t offset, uint64_t length, struct list *runs) {
  struct extents e = { .dirty_context = dirty_context };
  if (nbd_block_status(source, length, offset, (nbd_extent_callback){ .callback = on_extents, .user_data = &e }, 0) == -1) fail("block status");
  uint64_t end = offset + covered(e.dirty, e.dirty_count), alloc_end = offset + covered(e.alloc, e.alloc_count);
  if (alloc_end < end) end = alloc_end;
  size_t d = 0, a = 0;
  uint64_t d_start = offset, a_start = offset, at = offset;
  while (at < end && d < e.dirty_count && a < e.alloc_count) {
    uint64_t d_end = d_start + e.dirty[d], a_end = a_start + e.alloc[a];
    uint64_t piece_end = d_end < a_end ? d_end : a_end;
    if (piece_end > end) piece_end = end;
    if (e.dirty[d + 1] & 1) push(runs, at, piece_end - at, (e.alloc[a + 1] & STATE_HOLE_OR_ZERO) != 0);
    at = piece_end;
    if (at == d_end) { d += 2; d_start = d_end; }
    if (at == a_end) { a += 2; a_start = a_end; }
  }
  free(e.dirty); free(e.alloc);
  return end - offset;
}

static int on_read(void *user, int *error) {
  struct slot *s = user;
  if (*error) { fprintf(stderr, "nbd_pull: read failed: %s\n", strerror(*error)); exit(1); }
  s->state = READ_DONE;
  return 1;
}

static int on_written(void *user, int *error) {
  struct slot *s = user;
  if (*error) { fprintf(stderr, "nbd_pull: write failed: %s\n", strerror(*error)); exit(1); }
  s->state = FREE;
  return 1;
}

static short events_of(struct nbd_handle *h) {
  unsigned direction = nbd_aio_get_direction(h);
  return (short)(((direction & LIBNBD_AIO_DIRECTION_READ) ? POLLIN : 0) | ((direction & LIBNBD_AIO_DIRECTION_WRITE) ? POLLOUT : 0));
}

static void notify(struct nbd_handle *h, short revents) {
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && nbd_aio_notify_read(h) == -1) fail("notify read");
  if ((revents & POLLOUT) && nbd_aio_notify_write(h) == -1) fail("notify write");
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: nbd_pull SOURCE-URI TARGET-URI BITMAP [IN_FLIGHT [REQUEST]]\n"); return 2; }
  int in_flight = argc > 4 ? atoi(argv[4]) : 8;
  uint64_t request = argc > 5 ? strtoull(argv[5], NULL, 10) : (1 << 20);
  char dirty_context[256];
  snprintf(dirty_context, sizeof dirty_context, "qemu:dirty-bitmap:%s", argv[3]);

  struct nbd_handle *source = nbd_create(), *target = nbd_create();
  if (!source || !target) fail("create");
  if (nbd_add_meta_context(source, "base:allocation") == -1 || nbd_add_meta_context(source, dirty_context) == -1) fail("meta context");
  if (nbd_connect_uri(source, argv[1]) == -1) fail("connect source");
  if (nbd_connect_uri(target, argv[2]) == -1) fail("connect target");
  int64_t size = nbd_get_size(source);
  if (size < 0) fail("size");

  struct list runs = { 0 };
  for (uint64_t at = 0; at < (uint64_t)size;) {
    uint64_t length = (uint64_t)size - at < WINDOW ? (uint64_t)size - at : WINDOW;
    at += walk_window(source, dirty_context, at, length, &runs);
  }

  struct slot *slots = calloc((size_t)in_flight, sizeof *slots);
  for (int i = 0; i < in_flight; i++) slots[i].buffer = malloc(request);
  size_t next = 0;
  uint64_t offset_in_run = 0;
  for (;;) {
    int active = 0;
    for (int i = 0; i < in_flight; i++) {
      struct slot *s = &slots[i];
      if (s->state == READ_DONE) {
        if (nbd_aio_pwrite(target, s->buffer, s->run.length, s->run.offset, (nbd_completion_callback){ .callback = on_written, .user_data = s }, 0) == -1) fail("write");
        s->state = WRITING;
      }
      if (s->state == FREE && next < runs.count) {
        struct run *r = &runs.items[next];
        uint64_t piece = r->length - offset_in_run;
        if (!r->zero && piece > request) piece = request;
        s->run = (struct run){ r->offset + offset_in_run, piece, r->zero };
        offset_in_run += piece;
        if (offset_in_run == r->length) { next++; offset_in_run = 0; }
        if (s->run.zero) {
          if (nbd_aio_zero(target, piece, s->run.offset, (nbd_completion_callback){ .callback = on_written, .user_data = s }, 0) == -1) fail("zero");
          s->state = WRITING;
        } else {
          if (nbd_aio_pread(source, s->buffer, piece, s->run.offset, (nbd_completion_callback){ .callback = on_read, .user_data = s }, 0) == -1) fail("read");
          s->state = READING;
        }
      }
      active += s->state != FREE;
    }
    if (active == 0 && next == runs.count) break;
    struct pollfd fds[2] = { { nbd_aio_get_fd(source), events_of(source), 0 }, { nbd_aio_get_fd(target), events_of(target), 0 } };
    if (poll(fds, 2, -1) == -1 && errno != EINTR) { perror("poll"); return 1; }
    notify(source, fds[0].revents);
    notify(target, fds[1].revents);
  }

  if (nbd_flush(target, 0) == -1) fail("flush");
  nbd_shutdown(source, 0); nbd_shutdown(target, 0);
  nbd_close(source); nbd_close(target);
  return 0;
}
