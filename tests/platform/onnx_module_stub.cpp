// Stand-ins for what NPUVP_ONNX_MODULE might name by mistake
// (onnx_module_test.cpp): built with NPUVP_STUB_ENTRY, a module of another
// npuvp build, whose entry point refuses every loader; without, a shared
// object that is no npuvp module at all.
#include "sw/runtime/frontend/onnx_module.h"

#ifdef NPUVP_STUB_ENTRY
extern "C" const npuvp::runtime::OnnxImporter* npuvp_onnx_importer(const char*) { return nullptr; }
#else
extern "C" int npuvp_not_an_onnx_module() { return 0; }
#endif
