#include "models/common/sim_control.h"

#include <cstdint>
#include <map>
#include <stdexcept>

// sc_spawn, for the method that stops the run.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#define NPUVP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NPUVP_ASAN 1
#endif
#endif

#ifdef NPUVP_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace npuvp::sim {
namespace {

struct State {
  std::string failure;
  bool stopping = false;
  std::map<std::string, std::string> waits;  // by process name
};

State& state() {
  static State s;
  return s;
}

#ifdef NPUVP_ASAN
struct Stack {
  char* bottom = nullptr;
  std::size_t size = 0;
};

Stack main_stack() {
  Stack s;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return s;
  void* bottom = nullptr;
  if (pthread_attr_getstack(&attr, &bottom, &s.size) == 0) s.bottom = static_cast<char*>(bottom);
  pthread_attr_destroy(&attr);
  return s;
}

// Tells ASan that the main thread's own stack is the current one again (a
// fiber switch from wherever it believes it is to where it is).
void main_stack_is_current(const Stack& s) {
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, s.bottom, s.size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
}

// After a catch on the main stack while ASan had the wrong stack (an
// SC_METHOD): the throw skipped its clean-up, so the frames it unwound, all
// below this one now, are still poisoned. Clears them as the throw should have.
__attribute__((noinline)) void forget_unwound_frames(const Stack& s) {
  char marker = 0;
  // What this function and its callee may still use lies within a page.
  char* const live = &marker - 4096;
  if (s.bottom == nullptr || live <= s.bottom || &marker >= s.bottom + s.size) return;
  main_stack_is_current(s);
  __asan_unpoison_memory_region(s.bottom, static_cast<std::size_t>(live - s.bottom));
}
#endif

void after_catch() {
#ifdef NPUVP_ASAN
  forget_unwound_frames(main_stack());
#endif
}

void kill_threads(sc_core::sc_object* object) {
  for (sc_core::sc_object* child : object->get_child_objects()) kill_threads(child);
  sc_core::sc_process_handle process(object);
  if (process.valid() && process.proc_kind() != sc_core::SC_METHOD_PROC_ && !process.terminated()) process.kill();
}

}  // namespace

void guard(const std::function<void()>& body) {
  try {
    body();
  } catch (const sc_core::sc_unwind_exception&) {
    throw;
  } catch (const std::exception& e) {
    after_catch();
    fail(std::string(sc_core::sc_get_current_process_handle().name()) + ": " + e.what());
  } catch (...) {
    after_catch();
    fail(std::string(sc_core::sc_get_current_process_handle().name()) + ": unknown exception");
  }
}

void stop() {
  State& s = state();
  if (s.stopping) return;
  s.stopping = true;
  if (sc_core::sc_get_status() != sc_core::SC_RUNNING) {
    sc_core::sc_stop();
    return;
  }
  // A method, so that every thread is suspended when it is killed, and a kill
  // does not suspend the process asking for it.
  sc_core::sc_spawn_options options;
  options.spawn_method();
  sc_core::sc_spawn(
      [] {
        for (sc_core::sc_object* top : sc_core::sc_get_top_level_objects()) kill_threads(top);
        sc_core::sc_stop();
      },
      "npuvp_stop", &options);
}

void fail(const std::string& message) {
  State& s = state();
  if (s.failure.empty()) s.failure = message;
  stop();
}

void run_to_end() {
  sc_core::sc_start();
#ifdef NPUVP_ASAN
  main_stack_is_current(main_stack());
#endif
  if (!state().failure.empty()) throw std::runtime_error(state().failure);
}

const std::string& failure() { return state().failure; }

Waiting::Waiting(const std::string& what) : process_(sc_core::sc_get_current_process_handle().name()) {
  state().waits[process_] = what;
}

Waiting::~Waiting() { state().waits.erase(process_); }

std::string waits() {
  std::string out;
  for (const auto& [process, what] : state().waits) out += (out.empty() ? "" : "; ") + process + " waits for " + what;
  return out.empty() ? "no process declared a wait" : out;
}

}  // namespace npuvp::sim
