// Failures inside SystemC processes leave the simulation through
// sim::run_to_end(), naming the process, with every other thread unwound.
// Each TEST elaborates its own model (its own process under ctest).
#include "models/common/sim_control.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <systemc>
#include <vector>

namespace npuvp::sim {
namespace {

// Sets a flag when destroyed: proof that a stack was unwound.
struct Unwound {
  bool& flag;
  ~Unwound() { flag = true; }
};

struct Model : sc_core::sc_module {
  enum class Fault { kThreadThrows, kMethodThrows, kFails };
  Fault fault;
  bool waiter_unwound = false;
  bool waiter_resumed = false;
  sc_core::sc_event never;

  Model(const sc_core::sc_module_name& name, Fault f) : sc_module(name), fault(f) {
    SC_HAS_PROCESS(Model);
    SC_THREAD(waiter);
    SC_THREAD(faulty_thread);
    SC_METHOD(faulty_method);
    dont_initialize();
    sensitive << method_trigger;
  }
  sc_core::sc_event method_trigger;

  void waiter() {
    guard([this] {
      // Heap memory owned by the stack only: LeakSanitizer reports it if
      // the stack is abandoned instead of unwound.
      const auto owned = std::make_unique<std::vector<int>>(1000);
      const Unwound mark{waiter_unwound};
      sc_core::wait(never);
      waiter_resumed = true;
    });
  }
  void faulty_thread() {
    guard([this] {
      sc_core::wait(5, sc_core::SC_NS);
      if (fault == Fault::kThreadThrows) throw std::runtime_error("bus error at 0x40");
      if (fault == Fault::kFails) fail("the watchdog says so");
      if (fault == Fault::kMethodThrows) method_trigger.notify(2, sc_core::SC_NS);
    });
  }
  void faulty_method() {
    guard([] { throw std::out_of_range("no such layer"); });
  }
};

TEST(SimControl, AnExceptionInAThreadEndsTheRunNamingTheProcessAndUnwindsTheOthers) {
  Model m("m", Model::Fault::kThreadThrows);
  try {
    run_to_end();
    ADD_FAILURE() << "the failure was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "m.faulty_thread: bus error at 0x40");
  }
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::sc_time(5, sc_core::SC_NS));
  EXPECT_TRUE(m.waiter_unwound);
  EXPECT_FALSE(m.waiter_resumed);
  // The main stack is usable for exceptions again (ASan builds).
  EXPECT_THROW(throw std::logic_error("after"), std::logic_error);
}

TEST(SimControl, AnExceptionInAMethodEndsTheRunNamingTheProcess) {
  Model m("m", Model::Fault::kMethodThrows);
  try {
    run_to_end();
    ADD_FAILURE() << "the failure was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "m.faulty_method: no such layer");
  }
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::sc_time(7, sc_core::SC_NS));
  EXPECT_TRUE(m.waiter_unwound);
}

TEST(SimControl, AFailureKeptByAProcessIsThrownOnceTheRunEnds) {
  Model m("m", Model::Fault::kFails);
  try {
    run_to_end();
    ADD_FAILURE() << "the failure was lost";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "the watchdog says so");
  }
  EXPECT_EQ(failure(), "the watchdog says so");
  EXPECT_TRUE(m.waiter_unwound);
}

}  // namespace
}  // namespace npuvp::sim
