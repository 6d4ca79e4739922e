// The optional native matmul kernel: OpenBLAS's cblas_sgemm on float32 arrays, found at run
// time with dlopen, so building this needs no BLAS headers and loading it no BLAS package
// (without one, `unavailable()` says why, and choosing the kernel fails with that reason).
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cblas.h's enums, as their values are fixed by the CBLAS standard.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
typedef void (*set_threads_fn)(int);

static sgemm_fn sgemm = NULL;
static char reason[512] = "not loaded yet";

// Loads the library, once per process (pthread_once: every thread's instance of the addon
// shares it).
static pthread_once_t loaded = PTHREAD_ONCE_INIT;
static void load(void) {
  const char* chosen = getenv("FLOTILLA_BLAS_LIB");
  const char* names[] = { chosen, "libopenblas.so.0", "libopenblas.so" };
  // Before the library starts: without a thread pool of its own it costs nothing while
  // idle (its pthread build's pool polls, about 3% of a core per process here), and every
  // call runs on one thread anyway (below). This overrides a user's value, which child
  // processes then inherit. setenv races with getenv on other threads; the CLI and workers
  // load here on the main thread, before starting any of their own.
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  void* lib = NULL;
  for (size_t i = 0; i < sizeof names / sizeof names[0] && lib == NULL; i++) {
    if (names[i] != NULL && names[i][0] != '\0') lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (chosen != NULL && chosen[0] != '\0') break; // a named library or nothing
  }
  if (lib == NULL) {
    const char* error = dlerror();
    snprintf(reason, sizeof reason, "no OpenBLAS library (%s); Debian: apt-get install libopenblas0-pthread", error ? error : "not found");
    return;
  }
  // The 32-bit-integer CBLAS interface: an ILP64 build that exports an unsuffixed
  // cblas_sgemm with 64-bit sizes would be called wrongly; FLOTILLA_BLAS_LIB must not name one.
  sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
  if (sgemm == NULL) {
    const char* error = dlerror();
    snprintf(reason, sizeof reason, "the BLAS library has no cblas_sgemm (%s)", error ? error : "not found");
    return;
  }
  // One thread per call: Flotilla's parallelism is its threads and processes; OpenBLAS's
  // own pool on top of them would oversubscribe the cores.
  set_threads_fn set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
  if (set_threads != NULL) set_threads(1);
  reason[0] = '\0';
}

// Throws (unless a call already left an exception pending) and returns NULL, for `return`.
static napi_value throw_error(napi_env env, const char* message) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return NULL;
  napi_throw_error(env, NULL, message);
  return NULL;
}

// A float32 array argument's data pointer (NULL for an empty one) and length; false after
// throwing.
static bool floats(napi_env env, napi_value value, float** data, size_t* length, const char* name) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  napi_typedarray_type type;
  if (!is_typed || napi_get_typedarray_info(env, value, &type, length, (void**)data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    char message[96];
    snprintf(message, sizeof message, "sgemm: %s must be a Float32Array", name);
    throw_error(env, message);
    return false;
  }
  return true;
}

// unavailable(): null when cblas_sgemm is ready, else why not.
static napi_value Unavailable(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_once(&loaded, load);
  napi_value result;
  napi_status status = sgemm != NULL ? napi_get_null(env, &result) : napi_create_string_utf8(env, reason, NAPI_AUTO_LENGTH, &result);
  return status == napi_ok ? result : throw_error(env, "unavailable: could not make the result");
}

// sgemm(a, b, c, m, n, k, transA, transB, accumulate): C = op(A)·op(B), or C += it, row-major.
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 9) {
    return throw_error(env, "sgemm: expected (a, b, c, m, n, k, transA, transB, accumulate)");
  }
  pthread_once(&loaded, load);
  if (sgemm == NULL) return throw_error(env, reason);
  size_t la, lb, lc;
  float *a, *b, *c;
  if (!floats(env, argv[0], &a, &la, "a") || !floats(env, argv[1], &b, &lb, "b") || !floats(env, argv[2], &c, &lc, "c")) return NULL;
  // Doubles, not int32: napi_get_value_int32 would turn NaN into 0 and 2.5 into 2.
  int dims[3];
  for (int i = 0; i < 3; i++) {
    double d;
    if (napi_get_value_double(env, argv[3 + i], &d) != napi_ok || !isfinite(d) || d < 0 || d != floor(d) || d > INT_MAX) {
      return throw_error(env, "sgemm: m, n and k must be integers from 0 to 2^31 - 1");
    }
    dims[i] = (int)d;
  }
  bool flags[3];
  for (int i = 0; i < 3; i++) {
    if (napi_get_value_bool(env, argv[6 + i], &flags[i]) != napi_ok) return throw_error(env, "sgemm: transA, transB and accumulate must be booleans");
  }
  const int m = dims[0], n = dims[1], k = dims[2];
  if ((uint64_t)la < (uint64_t)m * k || (uint64_t)lb < (uint64_t)k * n || (uint64_t)lc < (uint64_t)m * n) {
    return throw_error(env, "sgemm: an array is shorter than its m, n and k need");
  }
  if (m == 0 || n == 0) return NULL;
  if (k == 0) { // BLAS wants leading dimensions of at least 1: do the empty product here
    if (!flags[2]) memset(c, 0, sizeof(float) * (size_t)m * n);
    return NULL;
  }
  sgemm(ROW_MAJOR, flags[0] ? TRANS : NO_TRANS, flags[1] ? TRANS : NO_TRANS, m, n, k,
        1.0f, a, flags[0] ? m : k, b, flags[1] ? k : n, flags[2] ? 1.0f : 0.0f, c, n);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "unavailable", NAPI_AUTO_LENGTH, Unavailable, NULL, &fn) != napi_ok
      || napi_set_named_property(env, exports, "unavailable", fn) != napi_ok
      || napi_create_function(env, "sgemm", NAPI_AUTO_LENGTH, Sgemm, NULL, &fn) != napi_ok
      || napi_set_named_property(env, exports, "sgemm", fn) != napi_ok) {
    return throw_error(env, "flotilla_blas: could not set up the module's functions");
  }
  return exports;
}
