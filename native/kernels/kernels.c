/*
 * Element loops of the conversion that V8 runs at a fraction of memory speed, written in C for
 * the caller's buffers (no allocation, no copy): un-shuffling HDF5 chunks (H5Zshuffle.c: byte k of
 * element j is at k * n + j), undoing TIFF's horizontal predictor and looking CF-packed values up
 * in a decoding table (the table is built in JavaScript, convert/transform.ts, so both paths store
 * exactly the same bits). Optional:
 * kernels/elementwise.ts runs the same loops in JavaScript when this addon is not built.
 *
 * unshuffle(src: Uint8Array, n, itemSize, so, dst: Uint8Array, doff, len): elements so..so+len of
 *   a shuffled chunk of n elements into dst's elements doff..doff+len.
 * lookup(src: Int8Array|Uint8Array|Int16Array|Uint16Array, so, dst: Float64Array|Float32Array,
 *   doff, len, table: Float64Array): dst[doff + i] = table[src[so + i] - min(type)], the table
 *   holding one entry per value of the source type (256 or 65536); a float32 target receives the
 *   table's value rounded to nearest, as a JavaScript Float32Array store does.
 *
 * accumulate(block: Uint8Array, rows, n, stride, size): TIFF's horizontal predictor undone in place
 *   (TIFF 6.0 section 14): in each of `rows` rows of `n` samples of `size` bytes (host order, as the
 *   decoder leaves them), sample i becomes the sum modulo 2^(8 size) of itself and sample i - stride.
 *
 * Every offset and length is checked against the arrays before a byte is touched: a bad call
 * throws a RangeError instead of writing outside a buffer. No floating-point arithmetic happens
 * here (loads, stores, integer additions and one double-to-float conversion), so compiler flags
 * cannot change a bit.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  napi_typedarray_type type;
  uint8_t* data;
  size_t length; /* elements */
} view_t;

static int view_of(napi_env env, napi_value v, view_t* out) {
  bool is_typed = false;
  napi_value buffer;
  size_t offset;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed) return 0;
  return napi_get_typedarray_info(env, v, &out->type, &out->length, (void**)&out->data, &buffer, &offset) ==
         napi_ok;
}

/* A non-negative integer argument that fits in a double exactly (offsets and lengths). */
static int index_of(napi_env env, napi_value v, int64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0 && d <= 9007199254740991.0) || d != (double)(int64_t)d) return 0;
  *out = (int64_t)d;
  return 1;
}

static napi_value fail(napi_env env, const char* why) {
  napi_throw_range_error(env, NULL, why);
  return NULL;
}

#define UNSHUFFLE(SIZE)                                                        \
  for (int64_t j = 0; j < len; j++)                                            \
    for (int k = 0; k < SIZE; k++) d[(doff + j) * SIZE + k] = s[k * n + so + j];

static napi_value unshuffle(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7];
  view_t src, dst;
  int64_t n, size, so, doff, len;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 7 || !view_of(env, a[0], &src) || src.type != napi_uint8_array || !index_of(env, a[1], &n) ||
      !index_of(env, a[2], &size) || !index_of(env, a[3], &so) || !view_of(env, a[4], &dst) ||
      dst.type != napi_uint8_array || !index_of(env, a[5], &doff) || !index_of(env, a[6], &len))
    return fail(env, "unshuffle(src: Uint8Array, n, itemSize, so, dst: Uint8Array, doff, len)");
  if (size < 1 || size > 64 || so + len > n || (uint64_t)n > src.length || (uint64_t)(n * size) > src.length ||
      (uint64_t)((doff + len) * size) > dst.length)
    return fail(env, "unshuffle: outside the chunk or the target");
  const uint8_t* s = src.data;
  uint8_t* d = dst.data;
  /* Fixed sizes let the compiler interleave the byte planes with vector shuffles. */
  switch (size) {
    case 1: memcpy(d + doff, s + so, (size_t)len); break;
    case 2: UNSHUFFLE(2) break;
    case 4: UNSHUFFLE(4) break;
    case 8: UNSHUFFLE(8) break;
    default:
      for (int64_t j = 0; j < len; j++)
        for (int64_t k = 0; k < size; k++) d[(doff + j) * size + k] = s[k * n + so + j];
  }
  return NULL;
}

#define LOOKUP(ST, DT, FIRST)                                          \
  {                                                                    \
    const ST* sp = (const ST*)src.data + so;                           \
    DT* dp = (DT*)dst.data + doff;                                     \
    const double* t = table - (FIRST);                                 \
    for (int64_t i = 0; i < len; i++) dp[i] = (DT)t[sp[i]];            \
  }

#define LOOKUP_INTO(ST, FIRST)                                         \
  if (dst.type == napi_float64_array) LOOKUP(ST, double, FIRST)        \
  else LOOKUP(ST, float, FIRST)

static napi_value lookup(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  view_t src, dst, tab;
  int64_t so, doff, len;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 6 || !view_of(env, a[0], &src) || !index_of(env, a[1], &so) || !view_of(env, a[2], &dst) ||
      (dst.type != napi_float64_array && dst.type != napi_float32_array) || !index_of(env, a[3], &doff) ||
      !index_of(env, a[4], &len) || !view_of(env, a[5], &tab) || tab.type != napi_float64_array)
    return fail(env, "lookup(src, so, dst: Float64Array | Float32Array, doff, len, table: Float64Array)");
  size_t entries = src.type == napi_int8_array || src.type == napi_uint8_array ? 256
                   : src.type == napi_int16_array || src.type == napi_uint16_array ? 65536
                                                                                 : 0;
  if (entries == 0) return fail(env, "lookup: the source must be 8- or 16-bit integers");
  if (tab.length != entries) return fail(env, "lookup: the table must have one entry per source value");
  if ((uint64_t)(so + len) > src.length || (uint64_t)(doff + len) > dst.length)
    return fail(env, "lookup: outside the source or the target");
  const double* table = (const double*)tab.data;
  switch (src.type) {
    case napi_int8_array: LOOKUP_INTO(int8_t, -128) break;
    case napi_uint8_array: LOOKUP_INTO(uint8_t, 0) break;
    case napi_int16_array: LOOKUP_INTO(int16_t, -32768) break;
    default: LOOKUP_INTO(uint16_t, 0) break;
  }
  return NULL;
}

#define ACCUMULATE(T)                                                          \
  {                                                                            \
    T* v = (T*)blk.data;                                                       \
    for (int64_t r = 0; r < rows; r++) {                                       \
      T* p = v + r * n;                                                        \
      if (stride == 1) {                                                       \
        T acc = p[0];                                                          \
        for (int64_t i = 1; i < n; i++) p[i] = acc = (T)(acc + p[i]);          \
      } else                                                                   \
        for (int64_t i = stride; i < n; i++) p[i] = (T)(p[i] + p[i - stride]); \
    }                                                                          \
  }

static napi_value accumulate(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  view_t blk;
  int64_t rows, n, stride, size;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 5 || !view_of(env, a[0], &blk) || blk.type != napi_uint8_array || !index_of(env, a[1], &rows) ||
      !index_of(env, a[2], &n) || !index_of(env, a[3], &stride) || !index_of(env, a[4], &size))
    return fail(env, "accumulate(block: Uint8Array, rows, n, stride, size)");
  if ((size != 1 && size != 2 && size != 4 && size != 8) || stride < 1 || (n > 0 && stride > n) ||
      (uint64_t)n > blk.length || (n > 0 && (uint64_t)rows > blk.length / ((uint64_t)n * (uint64_t)size)))
    return fail(env, "accumulate: outside the block, or not a sample size of 1, 2, 4 or 8 bytes");
  if ((uintptr_t)blk.data % (uintptr_t)size != 0) return fail(env, "accumulate: the block is not aligned to its samples");
  switch (size) {
    case 1: ACCUMULATE(uint8_t) break;
    case 2: ACCUMULATE(uint16_t) break;
    case 4: ACCUMULATE(uint32_t) break;
    default: ACCUMULATE(uint64_t) break;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "unshuffle", NAPI_AUTO_LENGTH, unshuffle, NULL, &fn);
  napi_set_named_property(env, exports, "unshuffle", fn);
  napi_create_function(env, "lookup", NAPI_AUTO_LENGTH, lookup, NULL, &fn);
  napi_set_named_property(env, exports, "lookup", fn);
  napi_create_function(env, "accumulate", NAPI_AUTO_LENGTH, accumulate, NULL, &fn);
  napi_set_named_property(env, exports, "accumulate", fn);
  return exports;
}
