// ampio_can: raw CAN sockets for Node.js (Node-API, plain C).
//
// One file on purpose (about 660 lines): the prebuilds are one gcc call per target
// (prebuild.sh, binding.gyp) with no headers of our own, and its parts (socket setup, the
// read path, send, the Node-API class) share one struct and a handful of static helpers.
//
// Why our own binding: the bridge must read bursts without losing frames silently. So the
// socket is read on the main loop through libuv's poll (no thread, no wakeup hop), with
// recvmmsg() taking up to 64 frames per syscall, kernel receive times from SO_TIMESTAMPNS
// control messages (no ioctl per frame) and the kernel's drop counter from SO_RXQ_OVFL.
// Under load, reads are paced by a timer (coalesceMs, see pace()) so one wakeup carries many
// frames. Each wakeup hands JS ONE buffer of fixed 80-byte records:
//   0  u32 can_id (host order: every target is little-endian)
//   4  u8  len            5  u8 canfd flags (0 for classic frames)
//   6  u8  meta: bit0 the frame was CAN FD (72-byte frame), bit1 MSG_CONFIRM (our own
//          frame, reported after the device transmitted it), bit2 timestamp present
//   7  u8  len8_dlc (classic frames with DLC 9..15)
//   8  64 bytes data     72 u32 seconds        76 u32 nanoseconds
// send() returns 0 or the errno (ENOBUFS means the qdisc is full), never throws for I/O.
#define _GNU_SOURCE /* recvmmsg */
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#define MEMINFO_DROPS 8 /* SK_MEMINFO_DROPS */
#ifndef CANFD_FDF
#define CANFD_FDF 0x04
#endif

#define RECORD 80
#define CHUNK 64 /* frames per recvmmsg */
#define DEFAULT_WAKEUP_CAP 256

typedef struct {
  int fd;
  int closed;
  uv_poll_t* poll;
  uv_timer_t* timer; /* read pacing under load (while coalesce_ms > 0); NULL once closed */
  int coalesce_ms;
  int paced;             /* 1 while the queue is read on the timer (readiness set aside) */
  uint64_t last_read_ms; /* loop time of the last read that returned frames */
  napi_env env;
  napi_ref self;     /* strong while open: the object must outlive its poll handle */
  napi_ref on_batch; /* function(buffer, count, kernelDrops, errno, paced) */
  napi_async_context async;
  uint32_t drops;    /* last sk_drops value seen (SO_RXQ_OVFL / SO_MEMINFO) */
  int wakeup_cap;
  int in_callback;   /* JS may drop the object while we call it: free only afterwards */
  int finalized;
  int rcvbuf;
  int ifindex;
  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  char ctrl[CHUNK][CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(uint32_t)) + 64];
  uint8_t* scratch; /* wakeup_cap records */
} CanSock;

static napi_ref constructor_ref;

#define CALL(env, x)                                               \
  do {                                                             \
    if ((x) != napi_ok) {                                          \
      napi_throw_error((env), NULL, "ampio_can: Node-API failure: " #x); \
      return NULL;                                                 \
    }                                                              \
  } while (0)

static const char* errno_code(int e) {
  switch (e) {
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENETDOWN: return "ENETDOWN";
    case ENOBUFS: return "ENOBUFS";
    case EINVAL: return "EINVAL";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return "EIO";
  }
}

/** Throws an Error whose .code is the errno name and .errno the number. */
static void throw_errno(napi_env env, const char* what, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_value code, text, err, num;
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &err);
  napi_create_int32(env, e, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_throw(env, err);
}

static int opt_int(napi_env env, napi_value obj, const char* key, int fallback) {
  bool has = false;
  napi_value v;
  napi_valuetype t;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return fallback;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return fallback;
  if (napi_typeof(env, v, &t) != napi_ok) return fallback;
  if (t == napi_boolean) {
    bool b;
    napi_get_value_bool(env, v, &b);
    return b ? 1 : 0;
  }
  if (t != napi_number) return fallback;
  int64_t n;
  napi_get_value_int64(env, v, &n);
  return (int)n;
}

static void on_handle_closed(uv_handle_t* h) { free(h); }

/** Stops polling and closes the descriptor; safe to call twice. */
static void sock_close(CanSock* s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll) {
    uv_poll_stop(s->poll);
    s->poll->data = NULL;
    uv_close((uv_handle_t*)s->poll, on_handle_closed);
    s->poll = NULL;
  }
  if (s->timer) {
    uv_timer_stop(s->timer);
    s->timer->data = NULL;
    uv_close((uv_handle_t*)s->timer, on_handle_closed);
    s->timer = NULL;
  }
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->self) {
    napi_delete_reference(s->env, s->self);
    s->self = NULL;
  }
}

static void sock_free(napi_env env, CanSock* s) {
  if (s->on_batch) napi_delete_reference(env, s->on_batch);
  if (s->async) napi_async_destroy(env, s->async);
  free(s->scratch);
  free(s);
}

static void sock_finalize(napi_env env, void* data, void* hint) {
  (void)hint;
  CanSock* s = data;
  sock_close(s);
  if (s->in_callback) s->finalized = 1;
  else sock_free(env, s);
}

/** Calls on_batch(buffer|null, count, kernelDropsTotal, errno, paced) inside a callback scope. */
static void deliver(CanSock* s, const uint8_t* rec, int count, int err, int paced) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, argv[5], result;
  if (napi_get_reference_value(env, s->on_batch, &fn) == napi_ok && fn != NULL) {
    if (count > 0) {
      void* dst;
      napi_create_buffer_copy(env, (size_t)count * RECORD, rec, &dst, &argv[0]);
    } else {
      napi_get_null(env, &argv[0]);
    }
    napi_create_int32(env, count, &argv[1]);
    napi_create_uint32(env, s->drops, &argv[2]);
    napi_create_int32(env, err, &argv[3]);
    napi_get_boolean(env, paced != 0, &argv[4]);
    napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
    // napi_make_callback runs the microtasks and process.nextTick queue afterwards, as for
    // any I/O callback: the TX pump is scheduled with queueMicrotask.
    if (napi_make_callback(env, s->async, recv, fn, 5, argv, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/** Reads up to wakeup_cap frames with recvmmsg (64 per call) into scratch. */
static int drain(CanSock* s, int* err_out) {
  int total = 0;
  *err_out = 0;
  while (total < s->wakeup_cap && s->fd >= 0) {
    int want = s->wakeup_cap - total;
    if (want > CHUNK) want = CHUNK;
    for (int i = 0; i < want; i++) {
      s->iov[i].iov_base = s->scratch + (size_t)(total + i) * RECORD;
      s->iov[i].iov_len = sizeof(struct canfd_frame);
      memset(&s->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
      s->msgs[i].msg_hdr.msg_iov = &s->iov[i];
      s->msgs[i].msg_hdr.msg_iovlen = 1;
      s->msgs[i].msg_hdr.msg_control = s->ctrl[i];
      s->msgs[i].msg_hdr.msg_controllen = sizeof s->ctrl[i];
    }
    int n = recvmmsg(s->fd, s->msgs, (unsigned)want, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) *err_out = errno;
      break;
    }
    for (int i = 0; i < n; i++) {
      uint8_t* r = s->scratch + (size_t)(total + i) * RECORD;
      struct msghdr* h = &s->msgs[i].msg_hdr;
      unsigned size = s->msgs[i].msg_len;
      uint8_t meta = 0;
      uint32_t sec = 0, nsec = 0;
      if (size == CANFD_MTU) {
        meta |= 1;
        r[7] = 0;
      } else {
        r[5] = 0; /* classic: __pad, not flags */
      }
      if (h->msg_flags & MSG_CONFIRM) meta |= 2;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level != SOL_SOCKET) continue;
        if (c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          sec = (uint32_t)ts.tv_sec;
          nsec = (uint32_t)ts.tv_nsec;
          meta |= 4;
        } else if (c->cmsg_type == SO_RXQ_OVFL) {
          uint32_t d;
          memcpy(&d, CMSG_DATA(c), sizeof d);
          /* the counter at the time this frame was queued: drops before it */
          if ((int32_t)(d - s->drops) > 0) s->drops = d;
        }
      }
      r[6] = meta;
      memcpy(r + 72, &sec, 4);
      memcpy(r + 76, &nsec, 4);
    }
    total += n;
    if (n < want) break; /* the queue is empty: no need for another syscall to learn EAGAIN */
  }
  return total;
}

/** Asks for a receive buffer of `bytes` (> 0). FORCE lifts net.core.rmem_max for
 *  root/CAP_NET_ADMIN; others get what rmem_max allows. */
static void ask_rcvbuf(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

static void on_timer(uv_timer_t* handle);
static void on_readable(uv_poll_t* handle, int status, int events);

/**
 * Read pacing. Every wakeup costs an epoll round, a recvmmsg and a call into JavaScript
 * whatever it carries, so at high frame rates the cost per frame is the cost per wakeup.
 * When frames arrive faster than one per coalesce_ms, readiness is set aside and the queue
 * is read on a coalesce_ms timer instead, each read taking everything queued meanwhile (the
 * kernel stamps each frame on arrival, and SO_RXQ_OVFL still counts any overflow). The first
 * read that finds the queue empty returns to readiness, so a quiet bus pays nothing and
 * adds no latency. A read that hit wakeup_cap runs again on the next loop turn.
 */
static void pace(CanSock* s, int count, int from_timer) {
  if (s->closed || !s->timer) return;
  uint64_t now = uv_now(uv_handle_get_loop((uv_handle_t*)s->timer));
  // coalesce_ms 0: pacing was switched off (setPacing) or never on: readiness only.
  if (count == 0 || s->coalesce_ms == 0) {
    if (from_timer && s->poll) uv_poll_start(s->poll, UV_READABLE, on_readable);
    s->paced = 0;
    return;
  }
  int busy = from_timer || now - s->last_read_ms < (uint64_t)s->coalesce_ms;
  s->last_read_ms = now;
  if (!busy) return;
  if (!from_timer && s->poll) uv_poll_stop(s->poll);
  s->paced = 1;
  uv_timer_start(s->timer, on_timer, count >= s->wakeup_cap ? 0 : (uint64_t)s->coalesce_ms, 0);
}

/** Reads, delivers, then paces; an error stops reading (the poll is stopped, no timer set). */
static void read_and_deliver(CanSock* s, int status, int from_timer) {
  int err = 0;
  int count = drain(s, &err);
  if (status < 0 && err == 0) err = EIO;
  s->in_callback++;
  if (count > 0) deliver(s, s->scratch, count, 0, from_timer);
  // The callback may have closed the socket.
  if (err != 0 && !s->closed) {
    if (s->poll) uv_poll_stop(s->poll);
    deliver(s, NULL, 0, err, 0);
  } else if (err == 0) {
    pace(s, count, from_timer);
  }
  s->in_callback--;
  if (s->finalized && s->in_callback == 0) sock_free(s->env, s);
}

static void on_readable(uv_poll_t* handle, int status, int events) {
  (void)events;
  CanSock* s = handle->data;
  if (!s || s->closed) return;
  read_and_deliver(s, status, 0);
}

static void on_timer(uv_timer_t* handle) {
  CanSock* s = handle->data;
  if (!s || s->closed) return;
  read_and_deliver(s, 0, 1);
}

static CanSock* unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  CanSock* s = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, (void**)&s) != napi_ok) {
    napi_throw_type_error(env, NULL, "not a CanSocket");
    return NULL;
  }
  return s;
}

// new CanSocket(ifname, { fd, errorMask, recvOwn, rcvbuf, wakeupCap, coalesceMs }, onBatch)
static napi_value sock_new(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], self;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  char ifname[IFNAMSIZ + 8];
  size_t len = 0;
  napi_valuetype t;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &len) != napi_ok || napi_typeof(env, argv[2], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "usage: new CanSocket(ifname, options, onBatch)");
    return NULL;
  }
  if (len == 0 || len >= IFNAMSIZ) {
    throw_errno(env, "interface name", ENAMETOOLONG);
    return NULL;
  }
  int want_fd = opt_int(env, argv[1], "fd", 0);
  int err_mask = opt_int(env, argv[1], "errorMask", 0);
  int recv_own = opt_int(env, argv[1], "recvOwn", 0);
  int rcvbuf = opt_int(env, argv[1], "rcvbuf", 0);
  int cap = opt_int(env, argv[1], "wakeupCap", DEFAULT_WAKEUP_CAP);
  if (cap < 1) cap = 1;
  if (cap > 4096) cap = 4096;
  int coalesce = opt_int(env, argv[1], "coalesceMs", 0);
  if (coalesce < 0) coalesce = 0;
  if (coalesce > 1000) coalesce = 1000;

  int fd = socket(PF_CAN, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, CAN_RAW);
  if (fd < 0) {
    throw_errno(env, "socket(PF_CAN, SOCK_RAW, CAN_RAW)", errno);
    return NULL;
  }
  int one = 1;
  const char* step = NULL;
  if (want_fd && setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &one, sizeof one) < 0) step = "CAN_RAW_FD_FRAMES";
  else if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &err_mask, sizeof err_mask) < 0) step = "CAN_RAW_ERR_FILTER";
  else if (recv_own && setsockopt(fd, SOL_CAN_RAW, CAN_RAW_RECV_OWN_MSGS, &one, sizeof one) < 0) step = "CAN_RAW_RECV_OWN_MSGS";
  else if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0) step = "SO_TIMESTAMPNS";
  else if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) < 0) step = "SO_RXQ_OVFL";
  if (!step && rcvbuf > 0) ask_rcvbuf(fd, rcvbuf);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, ifname, len);
  if (!step && ioctl(fd, SIOCGIFINDEX, &ifr) < 0) step = "SIOCGIFINDEX";
  struct sockaddr_can addr;
  memset(&addr, 0, sizeof addr);
  addr.can_family = AF_CAN;
  addr.can_ifindex = ifr.ifr_ifindex;
  if (!step && bind(fd, (struct sockaddr*)&addr, sizeof addr) < 0) step = "bind";
  if (step) {
    int e = errno;
    close(fd);
    char what[96];
    snprintf(what, sizeof what, "%s on %s", step, ifname);
    throw_errno(env, what, e);
    return NULL;
  }

  CanSock* s = calloc(1, sizeof *s);
  uv_loop_t* loop = NULL;
  if (!s || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    free(s);
    throw_errno(env, "ampio_can", ENOMEM);
    return NULL;
  }
  s->fd = fd;
  s->env = env;
  s->wakeup_cap = cap;
  s->ifindex = ifr.ifr_ifindex;
  socklen_t sl = sizeof s->rcvbuf;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &sl);
  s->scratch = calloc((size_t)cap, RECORD);
  s->poll = malloc(sizeof(uv_poll_t));
  s->coalesce_ms = coalesce;
  // Always made: setPacing() may switch pacing on later.
  s->timer = malloc(sizeof(uv_timer_t));
  if (!s->scratch || !s->poll || !s->timer) {
    close(fd);
    free(s->scratch);
    free(s->poll);
    free(s->timer);
    free(s);
    throw_errno(env, "ampio_can", ENOMEM);
    return NULL;
  }
  napi_value name;
  napi_create_string_utf8(env, "ampio_can:read", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async);
  napi_create_reference(env, argv[2], 1, &s->on_batch);
  napi_wrap(env, self, s, sock_finalize, NULL, NULL);
  napi_create_reference(env, self, 1, &s->self);
  if (s->timer) {
    uv_timer_init(loop, s->timer); /* cannot fail */
    s->timer->data = s;
  }
  int rc = uv_poll_init(loop, s->poll, fd);
  if (rc == 0) {
    s->poll->data = s;
    rc = uv_poll_start(s->poll, UV_READABLE, on_readable);
  } else {
    free(s->poll);
    s->poll = NULL;
  }
  if (rc != 0) {
    sock_close(s);
    throw_errno(env, "uv_poll_start", -rc);
    return NULL;
  }
  return self;
}

// send(id, data|null, len, flags, fd) -> 0 | errno
static napi_value sock_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out;
  CanSock* s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  uint32_t id = 0, len = 0, flags = 0;
  bool fd = false;
  napi_get_value_uint32(env, argv[0], &id);
  napi_get_value_uint32(env, argv[2], &len);
  napi_get_value_uint32(env, argv[3], &flags);
  napi_get_value_bool(env, argv[4], &fd);
  int result = 0;
  struct canfd_frame f;
  memset(&f, 0, sizeof f);
  f.can_id = id;
  if (s->closed) result = EBADF;
  else if (len > (fd ? CANFD_MAX_DLEN : CAN_MAX_DLEN)) result = EINVAL;
  else {
    f.len = (uint8_t)len;
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_object) {
      void* data = NULL;
      size_t n = 0;
      napi_typedarray_type tt;
      napi_value ab;
      size_t off;
      if (napi_get_typedarray_info(env, argv[1], &tt, &n, &data, &ab, &off) != napi_ok) result = EINVAL;
      else if (n > 0) memcpy(f.data, data, n < len ? n : len);
    }
    if (fd) f.flags = (uint8_t)(flags & 0x03);
    if (result == 0) {
      ssize_t w = send(s->fd, &f, fd ? CANFD_MTU : CAN_MTU, MSG_DONTWAIT);
      if (w < 0) result = errno;
      else if (w != (ssize_t)(fd ? CANFD_MTU : CAN_MTU)) result = EIO;
    }
  }
  napi_create_int32(env, result, &out);
  return out;
}

// setFilters(Uint32Array [id, mask, ...] | null) -> 0 | errno   (null: every frame)
static napi_value sock_set_filters(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CanSock* s = unwrap(env, info, &argc, argv);
  if (!s) return NULL;
  int result = 0;
  napi_valuetype t = napi_null;
  if (argc >= 1) napi_typeof(env, argv[0], &t);
  if (s->closed) result = EBADF;
  else if (t != napi_object) {
    struct can_filter all = {0, 0};
    if (setsockopt(s->fd, SOL_CAN_RAW, CAN_RAW_FILTER, &all, sizeof all) < 0) result = errno;
  } else {
    void* data = NULL;
    size_t n = 0, off;
    napi_typedarray_type tt;
    napi_value ab;
    if (napi_get_typedarray_info(env, argv[0], &tt, &n, &data, &ab, &off) != napi_ok || tt != napi_uint32_array || n % 2) result = EINVAL;
    else if (setsockopt(s->fd, SOL_CAN_RAW, CAN_RAW_FILTER, n ? data : NULL, (socklen_t)(n / 2 * sizeof(struct can_filter))) < 0) result = errno;
  }
  napi_create_int32(env, result, &out);
  return out;
}

/**
 * The methods that take one whole number: unwraps `this` and reads argv[0] into *value.
 * *err: 0, EINVAL (missing, not a number or outside min..max) or EBADF (closed).
 */
static CanSock* int_method(napi_env env, napi_callback_info info, int32_t min, int32_t max, int32_t* value, int* err) {
  size_t argc = 1;
  napi_value argv[1];
  CanSock* s = unwrap(env, info, &argc, argv);
  *err = 0;
  if (!s) return NULL;
  if (argc < 1 || napi_get_value_int32(env, argv[0], value) != napi_ok || *value < min || *value > max) *err = EINVAL;
  else if (s->closed) *err = EBADF;
  return s;
}

static napi_value int_result(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

// setPacing(ms) -> 0 | errno: changes the read pacing of an open socket (0 = off). A read
// already set on the pacing timer still happens; the next one follows the new interval.
static napi_value sock_set_pacing(napi_env env, napi_callback_info info) {
  int32_t ms = 0;
  int err;
  CanSock* s = int_method(env, info, 0, 1000, &ms, &err);
  if (!s) return NULL;
  if (err == 0) s->coalesce_ms = ms;
  return int_result(env, err);
}

// setRcvbuf(bytes, 0 = the kernel's default) -> what the kernel granted (as it reports it:
// twice what it allows) | -errno.
// Frames already queued stay; a smaller buffer only stops new ones from queueing past it.
static napi_value sock_set_rcvbuf(napi_env env, napi_callback_info info) {
  int32_t bytes = 0;
  int err;
  CanSock* s = int_method(env, info, 0, INT32_MAX, &bytes, &err);
  if (!s) return NULL;
  if (err != 0) return int_result(env, -err);
  if (bytes == 0) {
    // 0: the kernel's default, as a new socket gets it (net.core.rmem_default).
    FILE* f = fopen("/proc/sys/net/core/rmem_default", "r");
    if (!f || fscanf(f, "%d", &bytes) != 1) bytes = 212992;
    if (f) fclose(f);
    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  } else {
    ask_rcvbuf(s->fd, bytes);
  }
  socklen_t sl = sizeof s->rcvbuf;
  getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &s->rcvbuf, &sl);
  return int_result(env, s->rcvbuf);
}

// kernelDrops() -> the socket's drop counter now (SO_MEMINFO), also when no frame followed
static napi_value sock_kernel_drops(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value out;
  CanSock* s = unwrap(env, info, &argc, NULL);
  if (!s) return NULL;
  if (!s->closed) {
    uint32_t mem[16];
    memset(mem, 0, sizeof mem);
    socklen_t sl = sizeof mem;
    if (getsockopt(s->fd, SOL_SOCKET, SO_MEMINFO, mem, &sl) == 0 && sl > MEMINFO_DROPS * sizeof(uint32_t)) {
      if ((int32_t)(mem[MEMINFO_DROPS] - s->drops) > 0) s->drops = mem[MEMINFO_DROPS];
    }
  }
  napi_create_uint32(env, s->drops, &out);
  return out;
}

static napi_value sock_close_js(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  CanSock* s = unwrap(env, info, &argc, NULL);
  if (!s) return NULL;
  sock_close(s);
  return NULL;
}

static napi_value sock_info(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  napi_value out, v;
  CanSock* s = unwrap(env, info, &argc, NULL);
  if (!s) return NULL;
  napi_create_object(env, &out);
  napi_create_int32(env, s->rcvbuf, &v);
  napi_set_named_property(env, out, "rcvbuf", v);
  napi_create_int32(env, s->ifindex, &v);
  napi_set_named_property(env, out, "ifindex", v);
  napi_create_int32(env, s->fd, &v);
  napi_set_named_property(env, out, "fd", v);
  napi_get_boolean(env, s->closed != 0, &v);
  napi_set_named_property(env, out, "closed", v);
  napi_get_boolean(env, s->paced != 0, &v);
  napi_set_named_property(env, out, "paced", v);
  return out;
}

// probe() -> 0 when this kernel can create a CAN_RAW socket, else the errno (no interface needed)
static napi_value probe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  int fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
  int result = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  napi_create_int32(env, result, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"send", NULL, sock_send, NULL, NULL, NULL, napi_default, NULL},
      {"setFilters", NULL, sock_set_filters, NULL, NULL, NULL, napi_default, NULL},
      {"setPacing", NULL, sock_set_pacing, NULL, NULL, NULL, napi_default, NULL},
      {"setRcvbuf", NULL, sock_set_rcvbuf, NULL, NULL, NULL, napi_default, NULL},
      {"kernelDrops", NULL, sock_kernel_drops, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, sock_close_js, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, sock_info, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls, fn, v;
  CALL(env, napi_define_class(env, "CanSocket", NAPI_AUTO_LENGTH, sock_new, NULL, sizeof methods / sizeof methods[0], methods, &cls));
  CALL(env, napi_create_reference(env, cls, 1, &constructor_ref));
  CALL(env, napi_set_named_property(env, exports, "CanSocket", cls));
  CALL(env, napi_create_function(env, "probe", NAPI_AUTO_LENGTH, probe, NULL, &fn));
  CALL(env, napi_set_named_property(env, exports, "probe", fn));
  CALL(env, napi_create_int32(env, RECORD, &v));
  CALL(env, napi_set_named_property(env, exports, "RECORD_SIZE", v));
  CALL(env, napi_create_int32(env, 1, &v));
  CALL(env, napi_set_named_property(env, exports, "ABI", v));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
