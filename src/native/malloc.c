// glibc allocator controls for the mock (src/hardening/malloc-trim.ts). After a hostile burst glibc's
// main arena keeps tens of MiB of free chunks that JavaScript cannot hand back; malloc_trim(0) does.
// Built by scripts/build-native.mjs with the system cc; Linux/glibc only, no dependencies.
#include <malloc.h>
#include <node_api.h>

// trim(): malloc_trim(0); true when memory was released to the system
static napi_value Trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
}

// mallopt(param, value): glibc's mallopt (M_ARENA_MAX is -8, M_MMAP_THRESHOLD -3); true on success
static napi_value Mallopt(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t param = 0, value = 0;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &param) != napi_ok ||
      napi_get_value_int32(env, argv[1], &value) != napi_ok) {
    napi_throw_type_error(env, NULL, "mallopt(param, value): two integers");
    return NULL;
  }
  napi_get_boolean(env, mallopt(param, value) == 1, &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"trim", NULL, Trim, NULL, NULL, NULL, napi_default, NULL},
      {"mallopt", NULL, Mallopt, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
