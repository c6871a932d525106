#pragma once
// SIGINT and SIGTERM during `npuvp run`. The handler only notes the signal
// (about all a handler may safely do); the run monitor asks at every power
// window and stops the simulation there, between two model activities, so
// the run still writes what it measured and completes its traces.

namespace npuvp::platform {

class StopOnSignal {
 public:
  // Installs the handlers for this object's lifetime. Each acts once
  // (SA_RESETHAND): a second Ctrl-C ends the process at once, as usual.
  StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  ~StopOnSignal();  // restores the handlers found

  // The signal received since construction, 0 if none.
  int received() const;
};

// "SIGINT", "SIGTERM", or "a signal".
const char* signal_name(int signal);

}  // namespace npuvp::platform
