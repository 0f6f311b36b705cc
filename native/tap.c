/*
 * stackd_tap: the native TAP binding of stackd (plain N-API, NAPI_VERSION 8, no deps).
 *
 * Kernel interfaces used:
 *   - /dev/net/tun + TUNSETIFF (IFF_TAP | IFF_NO_PI [| IFF_VNET_HDR]), TUNSETVNETHDRSZ
 *     (pointer to int), TUNSETOFFLOAD (flags by value), TUNSETPERSIST (by value)
 *     -- Documentation/networking/tuntap.rst
 *   - SIOCGIFFLAGS / SIOCSIFFLAGS / SIOCSIFMTU on an AF_INET datagram socket -- netdevice(7)
 *   - read(2)/readv(2)/write(2)/writev(2): one Ethernet frame per call (a TAP has no
 *     recvmmsg), optionally preceded by the 10-byte struct virtio_net_hdr (virtio spec 1.1
 *     section 5.1.6, little-endian)
 *   - poll(2), eventfd(2) (a wake-up fd for a reader blocked in readBatch)
 *   - libuv (uv_poll_t, uv_timer_t on the calling thread's loop): a waker that runs a JS
 *     callback when an eventfd becomes readable or a deadline passes, so a worker thread
 *     wakes straight from its own epoll_wait (no V8 task, no promise)
 *   - gettid(2), sched_setscheduler(2)/sched_getscheduler(2) on one thread: SCHED_BATCH
 *     for the threads that must not preempt the data plane's when they wake, SCHED_OTHER
 *     for the data plane's own -- sched(7); decision 0049
 *   - sched_setaffinity(2)/sched_getaffinity(2) on one thread: the data-plane threads each
 *     on a CPU of their own when the process has enough -- decision 0053
 *
 * readBatch/writeBatch are the hot path: they allocate nothing per frame, validate their
 * arguments once per call and report results through caller-owned typed arrays. Wrong
 * argument types throw TypeError and out-of-range indices throw RangeError (programming
 * errors); kernel failures of the setup calls throw an Error whose `code` is the errno name
 * (e.g. 'EBUSY'), with `errno` (negative, like Node) and `syscall` properties.
 */
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define VNET_HDR_LEN 10
#define MAX_ARGS 12

/* ---------------------------------------------------------------- errors */

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *n = strerrorname_np(err);
  if (n) return n;
#endif
  switch (err) {
    case EPERM: return "EPERM";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EIO: return "EIO";
    case EFAULT: return "EFAULT";
    case EEXIST: return "EEXIST";
    default: return "EUNKNOWN";
  }
}

/* Throws Error(message) with code = errno name, errno = -err, syscall = syscall. */
static void throw_errno(napi_env env, int err, const char *syscall, const char *what) {
  char msg[256];
  napi_value code, message, error, v;
  const char *name = errno_name(err);
  snprintf(msg, sizeof msg, "%s%s%s failed: %s (%s)", syscall, what[0] ? " " : "", what, strerror(err), name);
  if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code) != napi_ok) return;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message) != napi_ok) return;
  if (napi_create_error(env, code, message, &error) != napi_ok) return;
  if (napi_create_int32(env, -err, &v) == napi_ok) napi_set_named_property(env, error, "errno", v);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, error, "syscall", v);
  napi_throw(env, error);
}

/* ------------------------------------------------------ argument helpers */

/* Fetches the call's arguments; throws TypeError if fewer than `want` were passed. */
static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv,
                    const char *fn) {
  size_t argc = MAX_ARGS;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < want) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: expected %zu arguments, got %zu", fn, want, argc);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

static int type_error(napi_env env, const char *fn, const char *arg, const char *expected) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s must be %s", fn, arg, expected);
  napi_throw_type_error(env, NULL, msg);
  return 0;
}

static int range_error(napi_env env, const char *fn, const char *what) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s", fn, what);
  napi_throw_range_error(env, NULL, msg);
  return 0;
}

static int get_i32(napi_env env, napi_value v, int32_t *out, const char *fn, const char *arg) {
  if (napi_get_value_int32(env, v, out) != napi_ok) return type_error(env, fn, arg, "a number");
  return 1;
}

static int get_bool(napi_env env, napi_value v, bool *out, const char *fn, const char *arg) {
  if (napi_get_value_bool(env, v, out) != napi_ok) return type_error(env, fn, arg, "a boolean");
  return 1;
}

/*
 * Gets a typed array's data pointer (already advanced by the view's byteOffset, so works
 * for views over (Shared)ArrayBuffers) and its element count. With allow_null, null and
 * undefined give data = NULL, len = 0.
 */
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, void **data,
                     size_t *len, int allow_null, const char *fn, const char *arg) {
  bool is_ta = false;
  napi_typedarray_type type;
  const char *expected = want == napi_uint8_array ? (allow_null ? "a Uint8Array or null" : "a Uint8Array")
                                                  : "an Int32Array";
  if (allow_null) {
    napi_valuetype t;
    if (napi_typeof(env, v, &t) != napi_ok) return 0;
    if (t == napi_null || t == napi_undefined) {
      *data = NULL;
      *len = 0;
      return 1;
    }
  }
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return type_error(env, fn, arg, expected);
  if (napi_get_typedarray_info(env, v, &type, len, data, NULL, NULL) != napi_ok || type != want)
    return type_error(env, fn, arg, expected);
  if (*data == NULL && *len != 0) return type_error(env, fn, arg, "a view over a live (not detached) buffer");
  return 1;
}

/* True if v is undefined (an optional argument left out). */
static int is_undefined(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_undefined;
}

static napi_value make_i32(napi_env env, int32_t n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value undefined(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

/* ------------------------------------------------------------- open/ioctls */

/* open(name: string, vnetHdr: boolean): { fd, name } */
static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], result, v;
  char name[IFNAMSIZ + 8];
  size_t name_len = 0;
  bool vnet = false;
  struct ifreq ifr;
  int fd, err;

  if (!get_args(env, info, 2, argv, "open")) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok) {
    type_error(env, "open", "name", "a string");
    return NULL;
  }
  if (!get_bool(env, argv[1], &vnet, "open", "vnetHdr")) return NULL;
  if (name_len >= IFNAMSIZ) {
    throw_errno(env, EINVAL, "TUNSETIFF", "(interface name longer than 15 bytes)");
    return NULL;
  }

  fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, errno, "open", "/dev/net/tun");
    return NULL;
  }
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
  memcpy(ifr.ifr_name, name, name_len); /* empty name: the kernel picks tap%d */
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    char what[IFNAMSIZ + 8];
    err = errno;
    close(fd);
    snprintf(what, sizeof what, "%s", name_len ? name : "(tap%d)");
    throw_errno(env, err, "TUNSETIFF", what);
    return NULL;
  }
  ifr.ifr_name[IFNAMSIZ - 1] = 0;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "fd", make_i32(env, fd));
  napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "name", v);
  return result;
}

/* setVnetHdrSize(fd, n): TUNSETVNETHDRSZ takes a pointer to int. */
static napi_value js_set_vnet_hdr_size(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t fd, n;
  int sz;
  if (!get_args(env, info, 2, argv, "setVnetHdrSize")) return NULL;
  if (!get_i32(env, argv[0], &fd, "setVnetHdrSize", "fd")) return NULL;
  if (!get_i32(env, argv[1], &n, "setVnetHdrSize", "n")) return NULL;
  sz = n;
  if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) throw_errno(env, errno, "TUNSETVNETHDRSZ", "on the tap fd");
  return undefined(env);
}

/* setOffload(fd, flags): TUNSETOFFLOAD takes the TUN_F_* flags by value. */
static napi_value js_set_offload(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t fd, flags;
  if (!get_args(env, info, 2, argv, "setOffload")) return NULL;
  if (!get_i32(env, argv[0], &fd, "setOffload", "fd")) return NULL;
  if (!get_i32(env, argv[1], &flags, "setOffload", "flags")) return NULL;
  if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(uint32_t)flags) < 0)
    throw_errno(env, errno, "TUNSETOFFLOAD", "on the tap fd");
  return undefined(env);
}

/* setPersist(fd, on): TUNSETPERSIST takes 0/1 by value. */
static napi_value js_set_persist(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t fd;
  bool on;
  if (!get_args(env, info, 2, argv, "setPersist")) return NULL;
  if (!get_i32(env, argv[0], &fd, "setPersist", "fd")) return NULL;
  if (!get_bool(env, argv[1], &on, "setPersist", "persist")) return NULL;
  if (ioctl(fd, TUNSETPERSIST, (unsigned long)(on ? 1 : 0)) < 0)
    throw_errno(env, errno, "TUNSETPERSIST", "on the tap fd");
  return undefined(env);
}

/* linkUp(name, mtu): SIOCSIFMTU (unless mtu == 0), then IFF_UP via SIOCGIFFLAGS/SIOCSIFFLAGS. */
static napi_value js_link_up(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  char name[IFNAMSIZ + 8];
  size_t name_len = 0;
  int32_t mtu;
  struct ifreq ifr;
  int s, err;

  if (!get_args(env, info, 2, argv, "linkUp")) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &name_len) != napi_ok) {
    type_error(env, "linkUp", "name", "a string");
    return NULL;
  }
  if (!get_i32(env, argv[1], &mtu, "linkUp", "mtu")) return NULL;
  if (name_len == 0 || name_len >= IFNAMSIZ) {
    throw_errno(env, EINVAL, "SIOCGIFFLAGS", "(interface name must be 1..15 bytes)");
    return NULL;
  }
  if (mtu < 0) {
    range_error(env, "linkUp", "mtu must be >= 0");
    return NULL;
  }
  s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    throw_errno(env, errno, "socket", "(AF_INET, SOCK_DGRAM)");
    return NULL;
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, name_len);
  if (mtu > 0) {
    ifr.ifr_mtu = mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
      err = errno;
      close(s);
      throw_errno(env, err, "SIOCSIFMTU", name);
      return NULL;
    }
  }
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    err = errno;
    close(s);
    throw_errno(env, err, "SIOCGIFFLAGS", name);
    return NULL;
  }
  if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
      err = errno;
      close(s);
      throw_errno(env, err, "SIOCSIFFLAGS", name);
      return NULL;
    }
  }
  close(s);
  return undefined(env);
}

/* --------------------------------------------------------------- hot path */

/* readBatch flags (the optional 12th argument). */
#define RB_POLL_FIRST 1 /* with a timeout: poll before the first read (the caller just found the tap empty) */
#define RB_DRAIN_WAKE 2 /* when poll() reports wakeFd readable, read it once (empties an eventfd) */

/*
 * readBatch(fd, buf, start, end, maxFrame, offsets, lens, maxCount, timeoutMs, wakeFd, vnet[, flags])
 * Returns the number of frames read, or -errno if the first read failed with an error
 * other than EAGAIN/EINTR (or poll failed).
 */
static napi_value js_read_batch(napi_env env, napi_callback_info info) {
  static const char *fn = "readBatch";
  napi_value argv[MAX_ARGS];
  int32_t fd, start, end, max_frame, max_count, timeout_ms, wake_fd;
  uint8_t *buf, *vnet;
  int32_t *offsets, *lens;
  size_t buf_len, off_len, lens_len, vnet_len;
  int64_t off;
  int32_t flags = 0;
  int count = 0, polled = 0, skip_read;

  if (!get_args(env, info, 11, argv, fn)) return NULL;
  if (!get_i32(env, argv[0], &fd, fn, "fd")) return NULL;
  if (!get_typed(env, argv[1], napi_uint8_array, (void **)&buf, &buf_len, 0, fn, "buf")) return NULL;
  if (!get_i32(env, argv[2], &start, fn, "start")) return NULL;
  if (!get_i32(env, argv[3], &end, fn, "end")) return NULL;
  if (!get_i32(env, argv[4], &max_frame, fn, "maxFrame")) return NULL;
  if (!get_typed(env, argv[5], napi_int32_array, (void **)&offsets, &off_len, 0, fn, "offsets")) return NULL;
  if (!get_typed(env, argv[6], napi_int32_array, (void **)&lens, &lens_len, 0, fn, "lens")) return NULL;
  if (!get_i32(env, argv[7], &max_count, fn, "maxCount")) return NULL;
  if (!get_i32(env, argv[8], &timeout_ms, fn, "timeoutMs")) return NULL;
  if (!get_i32(env, argv[9], &wake_fd, fn, "wakeFd")) return NULL;
  if (!get_typed(env, argv[10], napi_uint8_array, (void **)&vnet, &vnet_len, 1, fn, "vnet")) return NULL;
  if (!is_undefined(env, argv[11]) && !get_i32(env, argv[11], &flags, fn, "flags")) return NULL;

  if (start < 0 || end < start || (size_t)end > buf_len) {
    range_error(env, fn, "need 0 <= start <= end <= buf.length");
    return NULL;
  }
  if (max_frame <= 0) {
    range_error(env, fn, "maxFrame must be > 0");
    return NULL;
  }
  if (max_count < 0 || (size_t)max_count > off_len || (size_t)max_count > lens_len) {
    range_error(env, fn, "maxCount must be >= 0 and <= offsets.length and lens.length");
    return NULL;
  }
  if (vnet && (size_t)max_count * VNET_HDR_LEN > vnet_len) {
    range_error(env, fn, "vnet must hold maxCount * 10 bytes");
    return NULL;
  }

  off = start;
  /* Poll first: a read now would only find the queue the caller just saw empty (EAGAIN). */
  skip_read = (flags & RB_POLL_FIRST) != 0 && timeout_ms != 0;
  for (;;) {
    while (!skip_read && count < max_count && off + max_frame <= end) {
      ssize_t n;
      if (vnet) {
        struct iovec iov[2];
        iov[0].iov_base = vnet + (size_t)count * VNET_HDR_LEN;
        iov[0].iov_len = VNET_HDR_LEN;
        iov[1].iov_base = buf + off;
        iov[1].iov_len = (size_t)max_frame;
        n = readv(fd, iov, 2);
      } else {
        n = read(fd, buf + off, (size_t)max_frame);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (count == 0) return make_i32(env, -errno);
        break;
      }
      if (n == 0) break; /* EOF: not a tap (a tap never returns 0); avoid spinning */
      if (vnet) n = n >= VNET_HDR_LEN ? n - VNET_HDR_LEN : 0;
      offsets[count] = (int32_t)off;
      lens[count] = (int32_t)n;
      count++;
      off = (off + n + 15) & ~(int64_t)15;
    }
    skip_read = 0;
    /* Nothing read: wait (once) for the tap or the wake fd, unless told not to or full. */
    if (count > 0 || timeout_ms == 0 || polled || max_count == 0 || off + max_frame > end) break;
    {
      struct pollfd pfd[2];
      int nfds = 1, pr;
      pfd[0].fd = fd;
      pfd[0].events = POLLIN;
      pfd[0].revents = 0;
      if (wake_fd >= 0) {
        pfd[1].fd = wake_fd;
        pfd[1].events = POLLIN;
        pfd[1].revents = 0;
        nfds = 2;
      }
      pr = poll(pfd, (nfds_t)nfds, timeout_ms < 0 ? -1 : timeout_ms);
      polled = 1;
      if (pr < 0) {
        if (errno == EINTR) break;
        return make_i32(env, -errno);
      }
      if (pr == 0) break;
      if (nfds == 2 && (flags & RB_DRAIN_WAKE) && (pfd[1].revents & POLLIN)) {
        uint64_t val; /* one read empties a non-semaphore eventfd; EAGAIN if another reader won */
        while (read(wake_fd, &val, sizeof val) < 0 && errno == EINTR) {
        }
      }
      if (pfd[0].revents == 0) break; /* only the wake fd: nothing to read */
    }
  }
  return make_i32(env, count);
}

/*
 * Writes one frame from `n` iovecs (a plain write() for one), retrying on EINTR. Returns 0
 * at EAGAIN (the kernel queue is full: stop), else 1: the frame was consumed, written or
 * rejected with another errno (errors[0] += 1, errors[1] = errno).
 */
static int write_frame(int fd, const struct iovec *iov, int n, int32_t *errors) {
  ssize_t w;
  for (;;) {
    w = n == 1 ? write(fd, iov[0].iov_base, iov[0].iov_len) : writev(fd, iov, n);
    if (w >= 0 || errno != EINTR) break;
  }
  if (w < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    errors[0] += 1;
    errors[1] = errno;
  }
  return 1;
}

/* Throws RangeError unless frames first..last-1 lie inside buf (offsets[i] + lens[i] <= buf_len). */
static int check_frames(napi_env env, const char *fn, const int32_t *offsets, const int32_t *lens, int32_t first,
                        int32_t last, size_t buf_len) {
  int32_t i;
  for (i = first; i < last; i++) {
    if (offsets[i] < 0 || lens[i] < 0 || (int64_t)offsets[i] + lens[i] > (int64_t)buf_len)
      return range_error(env, fn, "a frame's offset/length lies outside buf");
  }
  return 1;
}

/*
 * writeBatch(fd, buf, offsets, lens, first, count, vnet, errors)
 * Writes frames first..first+count-1; stops at EAGAIN. Returns frames consumed (written or
 * skipped because of another error, which bumps errors[0] and sets errors[1] = errno).
 */
static napi_value js_write_batch(napi_env env, napi_callback_info info) {
  static const char *fn = "writeBatch";
  napi_value argv[MAX_ARGS];
  int32_t fd, first, count;
  uint8_t *buf, *vnet;
  int32_t *offsets, *lens, *errors;
  size_t buf_len, off_len, lens_len, vnet_len, err_len;
  int32_t i, last, done = 0;

  if (!get_args(env, info, 8, argv, fn)) return NULL;
  if (!get_i32(env, argv[0], &fd, fn, "fd")) return NULL;
  if (!get_typed(env, argv[1], napi_uint8_array, (void **)&buf, &buf_len, 0, fn, "buf")) return NULL;
  if (!get_typed(env, argv[2], napi_int32_array, (void **)&offsets, &off_len, 0, fn, "offsets")) return NULL;
  if (!get_typed(env, argv[3], napi_int32_array, (void **)&lens, &lens_len, 0, fn, "lens")) return NULL;
  if (!get_i32(env, argv[4], &first, fn, "first")) return NULL;
  if (!get_i32(env, argv[5], &count, fn, "count")) return NULL;
  if (!get_typed(env, argv[6], napi_uint8_array, (void **)&vnet, &vnet_len, 1, fn, "vnet")) return NULL;
  if (!get_typed(env, argv[7], napi_int32_array, (void **)&errors, &err_len, 0, fn, "errors")) return NULL;

  if (first < 0 || count < 0 || (int64_t)first + count > (int64_t)off_len ||
      (int64_t)first + count > (int64_t)lens_len) {
    range_error(env, fn, "need first >= 0, count >= 0, first + count <= offsets.length and lens.length");
    return NULL;
  }
  if (vnet && ((int64_t)first + count) * VNET_HDR_LEN > (int64_t)vnet_len) {
    range_error(env, fn, "vnet must hold (first + count) * 10 bytes");
    return NULL;
  }
  if (err_len < 2) {
    range_error(env, fn, "errors must have at least 2 elements");
    return NULL;
  }
  last = first + count;
  if (!check_frames(env, fn, offsets, lens, first, last, buf_len)) return NULL;

  for (i = first; i < last; i++) {
    struct iovec iov[2];
    int n = 0;
    if (vnet) {
      iov[n].iov_base = vnet + (size_t)i * VNET_HDR_LEN;
      iov[n++].iov_len = VNET_HDR_LEN;
    }
    iov[n].iov_base = buf + offsets[i];
    iov[n++].iov_len = (size_t)lens[i];
    if (!write_frame(fd, iov, n, errors)) break;
    done++;
  }
  return make_i32(env, done);
}

/*
 * writeGather(fd, buf, offsets, lens, first, count, pieceFirst, pieceCount, pieces,
 *             pieceOff, pieceLen, errors)
 * writeBatch for frames whose payload stays in the sender's memory (scatter-gather):
 * frame i is buf[offsets[i], +lens[i]) (its headers, with the virtio_net_hdr in front on a
 * vnet device) followed by pieceCount[i] pieces, piece j being
 * pieces[j][pieceOff[j], +pieceLen[j]) for j from pieceFirst[i] (`pieces`: an Array of
 * Uint8Arrays). One write(2) per frame without pieces, one writev(2) per frame with.
 * Stops at EAGAIN; returns frames consumed, other errors as in writeBatch.
 */
#define GATHER_MAX_PIECES 1024
#define GATHER_MAX_PER_FRAME 15
static napi_value js_write_gather(napi_env env, napi_callback_info info) {
  static const char *fn = "writeGather";
  napi_value argv[MAX_ARGS];
  int32_t fd, first, count;
  uint8_t *buf;
  int32_t *offsets, *lens, *pfirst, *pcount, *poff, *plen, *errors;
  size_t buf_len, off_len, lens_len, pf_len, pc_len, po_len, pl_len, err_len;
  uint32_t npieces;
  bool is_array;
  int32_t i, last, done = 0;
  uint8_t *base[GATHER_MAX_PIECES]; /* on the stack: workers call this concurrently */

  if (!get_args(env, info, 12, argv, fn)) return NULL;
  if (!get_i32(env, argv[0], &fd, fn, "fd")) return NULL;
  if (!get_typed(env, argv[1], napi_uint8_array, (void **)&buf, &buf_len, 0, fn, "buf")) return NULL;
  if (!get_typed(env, argv[2], napi_int32_array, (void **)&offsets, &off_len, 0, fn, "offsets")) return NULL;
  if (!get_typed(env, argv[3], napi_int32_array, (void **)&lens, &lens_len, 0, fn, "lens")) return NULL;
  if (!get_i32(env, argv[4], &first, fn, "first")) return NULL;
  if (!get_i32(env, argv[5], &count, fn, "count")) return NULL;
  if (!get_typed(env, argv[6], napi_int32_array, (void **)&pfirst, &pf_len, 0, fn, "pieceFirst")) return NULL;
  if (!get_typed(env, argv[7], napi_int32_array, (void **)&pcount, &pc_len, 0, fn, "pieceCount")) return NULL;
  if (napi_is_array(env, argv[8], &is_array) != napi_ok || !is_array) {
    type_error(env, fn, "pieces", "an Array of Uint8Arrays");
    return NULL;
  }
  if (napi_get_array_length(env, argv[8], &npieces) != napi_ok) return NULL;
  if (!get_typed(env, argv[9], napi_int32_array, (void **)&poff, &po_len, 0, fn, "pieceOff")) return NULL;
  if (!get_typed(env, argv[10], napi_int32_array, (void **)&plen, &pl_len, 0, fn, "pieceLen")) return NULL;
  if (!get_typed(env, argv[11], napi_int32_array, (void **)&errors, &err_len, 0, fn, "errors")) return NULL;

  if (first < 0 || count < 0 || (int64_t)first + count > (int64_t)off_len || (int64_t)first + count > (int64_t)lens_len ||
      (int64_t)first + count > (int64_t)pf_len || (int64_t)first + count > (int64_t)pc_len) {
    range_error(env, fn, "need first >= 0, count >= 0, first + count <= the length of offsets, lens, pieceFirst and pieceCount");
    return NULL;
  }
  if (err_len < 2) {
    range_error(env, fn, "errors must have at least 2 elements");
    return NULL;
  }
  last = first + count;
  /* Every frame and piece is checked, and each piece's memory found, before anything is written. */
  if (!check_frames(env, fn, offsets, lens, first, last, buf_len)) return NULL;
  for (i = first; i < last; i++) {
    int32_t j, pf = pfirst[i], pc = pcount[i];
    if (pc == 0) continue;
    if (pc < 0 || pc > GATHER_MAX_PER_FRAME || pf < 0 || (int64_t)pf + pc > (int64_t)npieces || (int64_t)pf + pc > (int64_t)po_len ||
        (int64_t)pf + pc > (int64_t)pl_len || pf + pc > GATHER_MAX_PIECES) {
      range_error(env, fn, "a frame's pieces lie outside pieces/pieceOff/pieceLen (at most 15 per frame, 1024 in all)");
      return NULL;
    }
    for (j = pf; j < pf + pc; j++) {
      napi_value el;
      void *data;
      size_t len;
      if (napi_get_element(env, argv[8], (uint32_t)j, &el) != napi_ok) return NULL;
      if (!get_typed(env, el, napi_uint8_array, &data, &len, 0, fn, "pieces[j]")) return NULL;
      if (poff[j] < 0 || plen[j] < 0 || (int64_t)poff[j] + plen[j] > (int64_t)len) {
        range_error(env, fn, "a piece's offset/length lies outside its array");
        return NULL;
      }
      base[j] = (uint8_t *)data;
    }
  }

  for (i = first; i < last; i++) {
    struct iovec iov[1 + GATHER_MAX_PER_FRAME];
    int32_t k, pf = pfirst[i], pc = pcount[i];
    iov[0].iov_base = buf + offsets[i];
    iov[0].iov_len = (size_t)lens[i];
    for (k = 0; k < pc; k++) {
      iov[1 + k].iov_base = base[pf + k] + poff[pf + k];
      iov[1 + k].iov_len = (size_t)plen[pf + k];
    }
    if (!write_frame(fd, iov, 1 + pc, errors)) break;
    done++;
  }
  return make_i32(env, done);
}

/* ------------------------------------------------------- eventfd & misc */

/* eventfd(): a non-blocking, close-on-exec eventfd used to wake a blocked readBatch. */
static napi_value js_eventfd(napi_env env, napi_callback_info info) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) {
    throw_errno(env, errno, "eventfd", "");
    return NULL;
  }
  return make_i32(env, fd);
}

/* eventfdSignal(fd): adds 1 to the counter (makes the fd readable). */
static napi_value js_eventfd_signal(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t fd;
  uint64_t one = 1;
  ssize_t n;
  if (!get_args(env, info, 1, argv, "eventfdSignal")) return NULL;
  if (!get_i32(env, argv[0], &fd, "eventfdSignal", "fd")) return NULL;
  do n = write(fd, &one, sizeof one);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN) throw_errno(env, errno, "write", "(eventfd)");
  return undefined(env);
}

/* eventfdDrain(fd): reads until EAGAIN; returns the drained count. */
static napi_value js_eventfd_drain(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], v;
  int32_t fd;
  uint64_t val, total = 0;
  int i;
  if (!get_args(env, info, 1, argv, "eventfdDrain")) return NULL;
  if (!get_i32(env, argv[0], &fd, "eventfdDrain", "fd")) return NULL;
  for (i = 0; i < 64; i++) { /* one read resets a non-semaphore eventfd; bound anyway */
    ssize_t n = read(fd, &val, sizeof val);
    if (n == (ssize_t)sizeof val) {
      total += val;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      throw_errno(env, errno, "read", "(eventfd)");
      return NULL;
    }
    break;
  }
  napi_create_double(env, (double)total, &v);
  return v;
}

/* close(fd) */
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t fd;
  if (!get_args(env, info, 1, argv, "close")) return NULL;
  if (!get_i32(env, argv[0], &fd, "close", "fd")) return NULL;
  if (close(fd) < 0 && errno != EINTR) throw_errno(env, errno, "close", "");
  return undefined(env);
}

/* pollReadable(fd, timeoutMs): true if fd became readable (or errored) within the timeout. */
static napi_value js_poll_readable(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], v;
  int32_t fd, timeout_ms;
  struct pollfd pfd;
  int pr;
  if (!get_args(env, info, 2, argv, "pollReadable")) return NULL;
  if (!get_i32(env, argv[0], &fd, "pollReadable", "fd")) return NULL;
  if (!get_i32(env, argv[1], &timeout_ms, "pollReadable", "timeoutMs")) return NULL;
  pfd.fd = fd;
  pfd.events = POLLIN;
  pfd.revents = 0;
  pr = poll(&pfd, 1, timeout_ms < 0 ? -1 : timeout_ms);
  if (pr < 0 && errno != EINTR) {
    throw_errno(env, errno, "poll", "");
    return NULL;
  }
  napi_get_boolean(env, pr > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) != 0, &v);
  return v;
}


/* ------------------------------------------------------------------ waker */

/*
 * A waker watches an eventfd with a uv_poll_t on the loop of the thread that made it and
 * keeps one uv_timer_t: when the fd becomes readable (another thread called
 * eventfdSignal) it drains the counter and calls `callback(false)`; when the armed
 * deadline passes it calls `callback(true)`. Both run through napi_make_callback, so
 * microtasks and process.nextTick queued by the callback run right after it, as for
 * any I/O callback. The poll handle keeps the loop alive until wakerClose. An async
 * cleanup hook closes both handles if the thread's environment is torn down first (a
 * worker that dies of an uncaught exception): Node refuses to close a loop that still
 * has open handles and aborts the whole process.
 */
typedef struct {
  uv_poll_t poll;
  uv_timer_t timer;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context async;
  napi_async_cleanup_hook_handle cleanup;
  int fd;
  int open_handles;
  int closing;
  /* Owners of the struct: the JS external (until finalized) and the open handles. */
  int owners;
} waker_t;

static void waker_release(waker_t *w) {
  if (--w->owners == 0) free(w);
}

static void waker_call(waker_t *w, int timed_out) {
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value cb, resource, arg, result;
  if (w->closing) return;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, w->callback, &cb) == napi_ok &&
      napi_get_reference_value(env, w->resource, &resource) == napi_ok &&
      napi_get_boolean(env, timed_out != 0, &arg) == napi_ok) {
    if (napi_make_callback(env, w->async, resource, cb, 1, &arg, &result) == napi_pending_exception) {
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void waker_on_poll(uv_poll_t *h, int status, int events) {
  waker_t *w = (waker_t *)h->data;
  uint64_t val;
  ssize_t n;
  do n = read(w->fd, &val, sizeof val);
  while (n < 0 && errno == EINTR);
  waker_call(w, 0);
}

static void waker_on_timer(uv_timer_t *h) {
  waker_call((waker_t *)h->data, 1);
}

static void waker_on_closed(uv_handle_t *h) {
  waker_t *w = (waker_t *)h->data;
  if (--w->open_handles > 0) return;
  napi_remove_async_cleanup_hook(w->cleanup); /* also tells a running teardown we are done */
  waker_release(w);
}

/* Stops calling back and closes both handles; the waker is freed once they are closed. */
static void waker_begin_close(waker_t *w) {
  if (w->closing) return;
  w->closing = 1;
  napi_async_destroy(w->env, w->async);
  napi_delete_reference(w->env, w->callback);
  napi_delete_reference(w->env, w->resource);
  uv_close((uv_handle_t *)&w->poll, waker_on_closed);
  uv_close((uv_handle_t *)&w->timer, waker_on_closed);
}

/* The environment is being torn down while the waker is open. */
static void waker_on_teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  waker_begin_close((waker_t *)arg);
}

static void waker_finalize(napi_env env, void *data, void *hint) {
  /* The JS handle is gone; the struct lives on until its handles are closed too. */
  waker_release((waker_t *)data);
}

static waker_t *get_waker(napi_env env, napi_value v, const char *fn) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    type_error(env, fn, "waker", "a waker");
    return NULL;
  }
  if (((waker_t *)p)->closing) {
    napi_throw_error(env, NULL, "the waker is closed");
    return NULL;
  }
  return (waker_t *)p;
}

/* wakerOpen(fd, callback): a waker on this thread's loop watching `fd`. */
static napi_value js_waker_open(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], ext, name;
  napi_valuetype t;
  int32_t fd;
  uv_loop_t *loop;
  waker_t *w;
  if (!get_args(env, info, 2, argv, "wakerOpen")) return NULL;
  if (!get_i32(env, argv[0], &fd, "wakerOpen", "fd")) return NULL;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    type_error(env, "wakerOpen", "callback", "a function");
    return NULL;
  }
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  w = (waker_t *)calloc(1, sizeof *w);
  if (w == NULL) {
    throw_errno(env, ENOMEM, "calloc", "(waker)");
    return NULL;
  }
  w->env = env;
  w->fd = fd;
  if (uv_poll_init(loop, &w->poll, fd) != 0) {
    free(w);
    throw_errno(env, EBADF, "uv_poll_init", "(waker)");
    return NULL;
  }
  w->poll.data = w;
  uv_timer_init(loop, &w->timer);
  w->timer.data = w;
  uv_unref((uv_handle_t *)&w->timer); /* the poll handle alone keeps the loop alive */
  w->open_handles = 2;
  w->owners = 2;
  if (napi_create_external(env, w, waker_finalize, NULL, &ext) != napi_ok) return NULL;
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_create_reference(env, ext, 1, &w->resource);
  napi_create_string_utf8(env, "stackd.waker", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, ext, name, &w->async);
  napi_add_async_cleanup_hook(env, waker_on_teardown, w, &w->cleanup);
  uv_poll_start(&w->poll, UV_READABLE, waker_on_poll);
  return ext;
}

/* wakerArm(waker, timeoutMs): calls back with true after timeoutMs (replaces the last
 * deadline); a negative timeout disarms. */
static napi_value js_waker_arm(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  double ms;
  waker_t *w;
  if (!get_args(env, info, 2, argv, "wakerArm")) return NULL;
  if ((w = get_waker(env, argv[0], "wakerArm")) == NULL) return NULL;
  if (napi_get_value_double(env, argv[1], &ms) != napi_ok) {
    type_error(env, "wakerArm", "timeoutMs", "a number");
    return NULL;
  }
  if (ms < 0) uv_timer_stop(&w->timer);
  else uv_timer_start(&w->timer, waker_on_timer, (uint64_t)(ms + 0.999), 0);
  return undefined(env);
}

/* wakerClose(waker): stops watching; no callback runs after it. Idempotent. */
static napi_value js_waker_close(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  void *p = NULL;
  if (!get_args(env, info, 1, argv, "wakerClose")) return NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
    type_error(env, "wakerClose", "waker", "a waker");
    return NULL;
  }
  waker_begin_close((waker_t *)p);
  return undefined(env);
}

/* ------------------------------------------------------ thread scheduling */

/* threadId(): the calling thread's kernel id (gettid(2)); the process id on the main thread. */
static napi_value js_thread_id(napi_env env, napi_callback_info info) {
  (void)info;
  return make_i32(env, (int32_t)syscall(SYS_gettid));
}

/*
 * setThreadPolicy(tid, policy): sched_setscheduler(tid, policy) with priority 0, for
 * SCHED_OTHER (0) or SCHED_BATCH (3) only; tid 0 is the calling thread. The nice value is
 * kept. Throws the errno (ESRCH: no such thread; EPERM).
 */
static napi_value js_set_thread_policy(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t tid, policy;
  struct sched_param param = {.sched_priority = 0};
  if (!get_args(env, info, 2, argv, "setThreadPolicy")) return NULL;
  if (!get_i32(env, argv[0], &tid, "setThreadPolicy", "tid")) return NULL;
  if (!get_i32(env, argv[1], &policy, "setThreadPolicy", "policy")) return NULL;
  if (tid < 0 || (policy != SCHED_OTHER && policy != SCHED_BATCH)) {
    napi_throw_range_error(env, NULL, "setThreadPolicy: tid must be >= 0 and policy SCHED_OTHER (0) or SCHED_BATCH (3)");
    return NULL;
  }
  if (sched_setscheduler((pid_t)tid, policy, &param) < 0) throw_errno(env, errno, "sched_setscheduler", "");
  return undefined(env);
}

/* threadPolicy(tid): sched_getscheduler(tid) (0: SCHED_OTHER, 3: SCHED_BATCH, ...); tid 0 is the calling thread. */
static napi_value js_thread_policy(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS];
  int32_t tid;
  int policy;
  if (!get_args(env, info, 1, argv, "threadPolicy")) return NULL;
  if (!get_i32(env, argv[0], &tid, "threadPolicy", "tid")) return NULL;
  if (tid < 0) {
    napi_throw_range_error(env, NULL, "threadPolicy: tid must be >= 0");
    return NULL;
  }
  policy = sched_getscheduler((pid_t)tid);
  if (policy < 0) {
    throw_errno(env, errno, "sched_getscheduler", "");
    return NULL;
  }
  return make_i32(env, policy & ~SCHED_RESET_ON_FORK);
}

/* CPU numbers the affinity calls take: 0..AFFINITY_MAX_CPUS-1 (a dynamic cpu_set_t of that size). */
#define AFFINITY_MAX_CPUS 8192

/* threadAffinity(tid): the CPUs thread tid may run on (sched_getaffinity(2)), ascending; tid 0 is the calling thread. */
static napi_value js_thread_affinity(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], out, v;
  int32_t tid;
  size_t size = CPU_ALLOC_SIZE(AFFINITY_MAX_CPUS);
  cpu_set_t *set;
  uint32_t n = 0;
  if (!get_args(env, info, 1, argv, "threadAffinity")) return NULL;
  if (!get_i32(env, argv[0], &tid, "threadAffinity", "tid")) return NULL;
  if (tid < 0) {
    napi_throw_range_error(env, NULL, "threadAffinity: tid must be >= 0");
    return NULL;
  }
  set = CPU_ALLOC(AFFINITY_MAX_CPUS);
  if (set == NULL) {
    throw_errno(env, ENOMEM, "sched_getaffinity", "");
    return NULL;
  }
  if (sched_getaffinity((pid_t)tid, size, set) < 0) {
    int err = errno;
    CPU_FREE(set);
    throw_errno(env, err, "sched_getaffinity", "");
    return NULL;
  }
  napi_create_array(env, &out);
  for (int cpu = 0; cpu < AFFINITY_MAX_CPUS; cpu++) {
    if (!CPU_ISSET_S(cpu, size, set)) continue;
    napi_create_int32(env, cpu, &v);
    napi_set_element(env, out, n++, v);
  }
  CPU_FREE(set);
  return out;
}

/*
 * setThreadAffinity(tid, cpus): sched_setaffinity(tid) to the CPUs in the array `cpus`
 * (each 0..8191); tid 0 is the calling thread. Throws the errno (EINVAL: none of them is
 * allowed here, e.g. outside the cpuset; ESRCH; EPERM).
 */
static napi_value js_set_thread_affinity(napi_env env, napi_callback_info info) {
  napi_value argv[MAX_ARGS], v;
  int32_t tid, cpu;
  uint32_t len;
  bool is_array;
  size_t size = CPU_ALLOC_SIZE(AFFINITY_MAX_CPUS);
  cpu_set_t *set;
  if (!get_args(env, info, 2, argv, "setThreadAffinity")) return NULL;
  if (!get_i32(env, argv[0], &tid, "setThreadAffinity", "tid")) return NULL;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "setThreadAffinity: cpus must be an array of CPU numbers");
    return NULL;
  }
  napi_get_array_length(env, argv[1], &len);
  if (tid < 0 || len == 0) {
    napi_throw_range_error(env, NULL, "setThreadAffinity: tid must be >= 0 and cpus not empty");
    return NULL;
  }
  set = CPU_ALLOC(AFFINITY_MAX_CPUS);
  if (set == NULL) {
    throw_errno(env, ENOMEM, "sched_setaffinity", "");
    return NULL;
  }
  CPU_ZERO_S(size, set);
  for (uint32_t i = 0; i < len; i++) {
    napi_get_element(env, argv[1], i, &v);
    if (!get_i32(env, v, &cpu, "setThreadAffinity", "cpus[i]")) {
      CPU_FREE(set);
      return NULL;
    }
    if (cpu < 0 || cpu >= AFFINITY_MAX_CPUS) {
      CPU_FREE(set);
      napi_throw_range_error(env, NULL, "setThreadAffinity: a CPU number must be in 0..8191");
      return NULL;
    }
    CPU_SET_S(cpu, size, set);
  }
  if (sched_setaffinity((pid_t)tid, size, set) < 0) {
    int err = errno;
    CPU_FREE(set);
    throw_errno(env, err, "sched_setaffinity", "");
    return NULL;
  }
  CPU_FREE(set);
  return undefined(env);
}

/* ------------------------------------------------------------ module init */

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setVnetHdrSize", NULL, js_set_vnet_hdr_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setOffload", NULL, js_set_offload, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setPersist", NULL, js_set_persist, NULL, NULL, NULL, napi_enumerable, NULL},
      {"linkUp", NULL, js_link_up, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readBatch", NULL, js_read_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeBatch", NULL, js_write_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeGather", NULL, js_write_gather, NULL, NULL, NULL, napi_enumerable, NULL},
      {"eventfd", NULL, js_eventfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"eventfdSignal", NULL, js_eventfd_signal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"eventfdDrain", NULL, js_eventfd_drain, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollReadable", NULL, js_poll_readable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wakerOpen", NULL, js_waker_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wakerArm", NULL, js_waker_arm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wakerClose", NULL, js_waker_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threadId", NULL, js_thread_id, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreadPolicy", NULL, js_set_thread_policy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threadPolicy", NULL, js_thread_policy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threadAffinity", NULL, js_thread_affinity, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreadAffinity", NULL, js_set_thread_affinity, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
