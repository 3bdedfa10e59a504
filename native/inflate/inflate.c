/*
 * zlib streams (HDF5's deflate filter, H5Zdeflate.c) decompressed by libdeflate into a buffer the
 * caller owns: about twice node:zlib's speed on MUR's chunks, and no new buffer per chunk
 * (docs/benchmarks.md, "The floor"). Optional: geozarr falls back to node:zlib when this addon is
 * not built (readers/inflate.ts).
 *
 * zlibInto(src: Uint8Array, dst: Uint8Array) -> number: the bytes written into dst, or a negative
 * libdeflate_result - 1 (-2 bad data, -3 short output, -4 insufficient space).
 *
 * One decompressor per Node environment (the main thread and each worker thread), as the N-API
 * instance data: libdeflate decompressors are not thread-safe, and allocating one per call costs
 * more than decompressing a small chunk.
 */
#include <libdeflate.h>
#include <node_api.h>

static void free_decompressor(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  libdeflate_free_decompressor((struct libdeflate_decompressor*)data);
}

static int bytes_of(napi_env env, napi_value v, void** data, size_t* length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  bool is_typed;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) return 0;
  return type == napi_uint8_array;
}

static napi_value zlib_into(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *src, *dst;
  size_t src_len, dst_len, written = 0;
  struct libdeflate_decompressor* d;
  napi_value result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !bytes_of(env, argv[0], &src, &src_len) || !bytes_of(env, argv[1], &dst, &dst_len)) {
    napi_throw_type_error(env, NULL, "zlibInto(src: Uint8Array, dst: Uint8Array)");
    return NULL;
  }
  napi_get_instance_data(env, (void**)&d);
  enum libdeflate_result r = libdeflate_zlib_decompress(d, src, src_len, dst, dst_len, &written);
  napi_create_int64(env, r == LIBDEFLATE_SUCCESS ? (int64_t)written : -(int64_t)r - 1, &result);
  return result;
}

NAPI_MODULE_INIT() {
  struct libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  if (d == NULL) {
    napi_throw_error(env, NULL, "libdeflate: cannot allocate a decompressor");
    return NULL;
  }
  napi_set_instance_data(env, d, free_decompressor, NULL);
  napi_value fn;
  napi_create_function(env, "zlibInto", NAPI_AUTO_LENGTH, zlib_into, NULL, &fn);
  napi_set_named_property(env, exports, "zlibInto", fn);
  return exports;
}
