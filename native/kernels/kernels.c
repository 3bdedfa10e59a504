/*
 * Element loops of the conversion that V8 runs at a fraction of memory speed, written in C for
 * the caller's buffers (no allocation, no copy): un-shuffling HDF5 chunks (H5Zshuffle.c: byte k of
 * element j is at k * n + j), undoing TIFF's horizontal predictor and looking CF-packed values up
 * in a decoding table (the table is built in JavaScript, convert/transform.ts, so both paths store
 * exactly the same bits). Optional:
 * kernels/elementwise.ts runs the same loops in JavaScript when this addon is not built.
 *
 * unshuffle(src: Uint8Array, n, itemSize, so, srcStride, dst: Uint8Array, doff, dstStride, len, rows):
 *   `rows` rows of `len` elements of a shuffled chunk of n elements, row r starting at element
 *   so + r * srcStride, into dst's elements doff + r * dstStride onwards. A whole block per call:
 *   one call per row cost more than the row's bytes (about 2 million rows per 30 MUR granules).
 * copyRows(src: Uint8Array, so, srcStride, dst: Uint8Array, doff, dstStride, len, rows): the same
 *   block of plain bytes (offsets, strides and lengths in bytes).
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
#include <stdbool.h>
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

/* The last element a block of `rows` rows of `len` elements reaches, plus one (0 when empty). */
static int block_end(int64_t start, int64_t stride, int64_t len, int64_t rows, uint64_t* out) {
  if (rows == 0 || len == 0) {
    *out = 0;
    return 1;
  }
  /* Offsets and strides are below 2^53 (index_of); products stay below 2^63 for any real buffer. */
  if (rows > 1 && stride > (INT64_MAX - start - len) / (rows - 1)) return 0;
  *out = (uint64_t)(start + (rows - 1) * stride + len);
  return 1;
}

#define UNSHUFFLE(SIZE)                                                                \
  for (int64_t r = 0; r < rows; r++) {                                                 \
    const uint8_t* sr = s + so + r * ss;                                               \
    uint8_t* dr = d + (doff + r * ds) * SIZE;                                          \
    for (int64_t j = 0; j < len; j++)                                                  \
      for (int k = 0; k < SIZE; k++) dr[j * SIZE + k] = sr[k * n + j];                 \
  }

static napi_value unshuffle(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value a[10];
  view_t src, dst;
  int64_t n, size, so, ss, doff, ds, len, rows;
  uint64_t send, dend;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 10 || !view_of(env, a[0], &src) || src.type != napi_uint8_array || !index_of(env, a[1], &n) ||
      !index_of(env, a[2], &size) || !index_of(env, a[3], &so) || !index_of(env, a[4], &ss) ||
      !view_of(env, a[5], &dst) || dst.type != napi_uint8_array || !index_of(env, a[6], &doff) ||
      !index_of(env, a[7], &ds) || !index_of(env, a[8], &len) || !index_of(env, a[9], &rows))
    return fail(env, "unshuffle(src: Uint8Array, n, itemSize, so, srcStride, dst: Uint8Array, doff, dstStride, len, rows)");
  if (size < 1 || size > 64 || !block_end(so, ss, len, rows, &send) || !block_end(doff, ds, len, rows, &dend) ||
      send > (uint64_t)n || (uint64_t)n > src.length / (uint64_t)size || dend > dst.length / (uint64_t)size)
    return fail(env, "unshuffle: outside the chunk or the target");
  if (send == 0) return NULL;
  const uint8_t* s = src.data;
  uint8_t* d = dst.data;
  /* Fixed sizes let the compiler interleave the byte planes with vector shuffles. */
  switch (size) {
    case 1:
      for (int64_t r = 0; r < rows; r++) memcpy(d + doff + r * ds, s + so + r * ss, (size_t)len);
      break;
    case 2: UNSHUFFLE(2) break;
    case 4: UNSHUFFLE(4) break;
    case 8: UNSHUFFLE(8) break;
    default:
      for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < len; j++)
          for (int64_t k = 0; k < size; k++) d[(doff + r * ds + j) * size + k] = s[k * n + so + r * ss + j];
  }
  return NULL;
}

static napi_value copy_rows(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value a[8];
  view_t src, dst;
  int64_t so, ss, doff, ds, len, rows;
  uint64_t send, dend;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 8 || !view_of(env, a[0], &src) || src.type != napi_uint8_array || !index_of(env, a[1], &so) ||
      !index_of(env, a[2], &ss) || !view_of(env, a[3], &dst) || dst.type != napi_uint8_array ||
      !index_of(env, a[4], &doff) || !index_of(env, a[5], &ds) || !index_of(env, a[6], &len) ||
      !index_of(env, a[7], &rows))
    return fail(env, "copyRows(src: Uint8Array, so, srcStride, dst: Uint8Array, doff, dstStride, len, rows)");
  if (!block_end(so, ss, len, rows, &send) || !block_end(doff, ds, len, rows, &dend) || send > src.length ||
      dend > dst.length)
    return fail(env, "copyRows: outside the source or the target");
  /* memmove: the caller may copy within one buffer. */
  for (int64_t r = 0; r < rows && len > 0; r++)
    memmove(dst.data + doff + r * ds, src.data + so + r * ss, (size_t)len);
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
  napi_create_function(env, "copyRows", NAPI_AUTO_LENGTH, copy_rows, NULL, &fn);
  napi_set_named_property(env, exports, "copyRows", fn);
  napi_create_function(env, "lookup", NAPI_AUTO_LENGTH, lookup, NULL, &fn);
  napi_set_named_property(env, exports, "lookup", fn);
  napi_create_function(env, "accumulate", NAPI_AUTO_LENGTH, accumulate, NULL, &fn);
  napi_set_named_property(env, exports, "accumulate", fn);
  return exports;
}
