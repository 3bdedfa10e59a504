/*
 * Whole files written with O_DIRECT, past the page cache (Linux). On the virtual machines this
 * project is measured on, the kernel's copy of written chunks into freshly allocated page-cache
 * pages costs 0.4-2 CPU s per 700 MB (dd, docs/benchmarks.md); a DMA write from a reused aligned
 * buffer costs a memcpy. Opt-in (GEOZARR_DIRECT_IO=1, zarr/store/direct-write.ts): the write then
 * waits for the disk instead of returning when the page cache has the bytes, which is slower on a
 * slow disk.
 *
 * writeDirect(path: string, bytes: Uint8Array) -> 0 when written, or -errno (-EINVAL: the file
 * system does not do O_DIRECT; the caller then writes through the page cache).
 *
 * O_DIRECT wants the buffer, the file offset and the length aligned to the device's logical block:
 * the bytes go through a 4 MiB buffer aligned to 4096 (one per Node environment: the main thread
 * and each worker thread), the last piece padded with zeros, then the file is truncated to its
 * length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALIGN 4096
#define PIECE (4u << 20)

static void free_buffer(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  free(data);
}

static int write_all(int fd, const unsigned char* p, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

static napi_value write_direct(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result, ab;
  char path[4096];
  size_t plen, len, off;
  napi_typedarray_type type;
  void* data;
  unsigned char* buf;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &plen) != napi_ok ||
      plen >= sizeof path - 1 ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &data, &ab, &off) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "writeDirect(path: string, bytes: Uint8Array)");
    return NULL;
  }
  napi_get_instance_data(env, (void**)&buf);
  int err = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0666);
  if (fd < 0) {
    napi_create_int32(env, -errno, &result);
    return result;
  }
  for (size_t done = 0; done < len && !err;) {
    size_t n = len - done < PIECE ? len - done : PIECE;
    size_t padded = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    memcpy(buf, (const unsigned char*)data + done, n);
    memset(buf + n, 0, padded - n);
    err = write_all(fd, buf, padded);
    done += n;
  }
  if (!err && ftruncate(fd, (off_t)len) != 0) err = errno;
  if (close(fd) != 0 && !err) err = errno;
  napi_create_int32(env, -err, &result);
  return result;
}

NAPI_MODULE_INIT() {
  void* buf = NULL;
  if (posix_memalign(&buf, ALIGN, PIECE) != 0) {
    napi_throw_error(env, NULL, "directio: cannot allocate the aligned buffer");
    return NULL;
  }
  napi_set_instance_data(env, buf, free_buffer, NULL);
  napi_value fn;
  napi_create_function(env, "writeDirect", NAPI_AUTO_LENGTH, write_direct, NULL, &fn);
  napi_set_named_property(env, exports, "writeDirect", fn);
  return exports;
}
