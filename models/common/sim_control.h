#pragma once
// How a simulation ends: normally, on request (a signal, the watchdog) or on a
// failure inside a SystemC process. See docs/errors.md.
//
// Debian's SystemC runs every SC_THREAD on a QuickThreads coroutine. Two
// things go wrong when a run leaves through the kernel:
// - an exception that escapes a process is caught by the kernel on the
//   coroutine and thrown again inside sc_start() on the main stack;
// - the kernel's AddressSanitizer fiber annotations leave ASan believing, once
//   control is back in sc_main, that the current stack is the last coroutine's
//   (or none), so ASan skips the stack clean-up of every later throw on the
//   main stack and reports a false "stack-buffer-overflow" in a frame the
//   throw unwound;
// - a thread abandoned by sc_stop() mid-run keeps its locals on a coroutine
//   stack nothing scans, and LeakSanitizer reports what they own.
// So processes run their bodies under guard(), which keeps a failure instead
// of letting it escape; stop() unwinds every suspended thread before
// sc_stop(); and run_to_end() puts ASan back on the main stack after
// sc_start() and throws the kept failure from there.

#include <functional>
#include <string>

namespace npuvp::sim {

// Runs the body of a SystemC process (SC_THREAD or SC_METHOD). An exception
// it throws is the run's failure: the first one is kept with the process's
// name and the run stopped with stop(). A kill (the unwinding
// stop() causes) passes through.
void guard(const std::function<void()>& body);

// Ends the run from inside the simulation: in the next evaluation step every
// thread still suspended is killed (its stack unwound, destructors run), then
// sc_stop(). Repeated requests are one.
void stop();

// Keeps `message` as the run's failure (the first one kept wins) and stop()s.
void fail(const std::string& message);

// sc_start() until the simulation ends or stops; then the main stack is
// ASan's current stack again, and a failure kept by guard() or fail() is
// thrown here as std::runtime_error("<process>: <what>").
void run_to_end();

// The failure kept so far, empty if none.
const std::string& failure();

// Declares, for its lifetime, what the current process is blocked on: the
// watchdog's account of who waits on whom. It owns no memory, so that a
// thread left suspended at the end of a run leaves nothing to LeakSanitizer.
class Waiting {
 public:
  explicit Waiting(const std::string& what);
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;
  ~Waiting();

 private:
  const char* process_;  // the process's name, owned by the process
};

// "<process> waits for <what>" for every wait declared now, by process name,
// joined by "; "; "no process declared a wait" if none.
std::string waits();

}  // namespace npuvp::sim
