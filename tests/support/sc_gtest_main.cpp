// sc_main for every GoogleTest binary: SystemC warnings and errors become test
// failures instead of scrolling by, then all (filtered) tests run.
#include <cstdlib>

#include <gtest/gtest.h>
#include <systemc>

#include "models/common/log.h"

namespace {

// The kernel prints its banner when it first initializes, which can happen in
// static initializers before main: the switch must be set before any of them.
__attribute__((constructor(101))) static void quiet_systemc_banner() {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
}

void report_handler(const sc_core::sc_report& report, const sc_core::sc_actions& actions) {
  // Deprecation chatter of the kernel itself is not the model's fault.
  const bool is_kernel_info = report.get_severity() == sc_core::SC_INFO;
  if (!is_kernel_info && report.get_severity() >= sc_core::SC_WARNING) {
    ADD_FAILURE() << "SystemC " << (report.get_severity() == sc_core::SC_WARNING ? "warning" : "error") << ": "
                  << report.get_msg_type() << ": " << report.get_msg();
  }
  sc_core::sc_report_handler::default_handler(report, actions & ~(sc_core::SC_STOP | sc_core::SC_ABORT));
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  npuvp::log::setup(spdlog::level::warn);
  sc_core::sc_report_handler::set_handler(report_handler);
  return RUN_ALL_TESTS();
}
