#include "models/dram/command.h"

namespace npuvp::dram {

const char* to_string(Command command) {
  switch (command) {
    case Command::kNop:
      return "NOP";
    case Command::kAct:
      return "ACT";
    case Command::kPre:
      return "PREpb";
    case Command::kPreAll:
      return "PREab";
    case Command::kRd:
      return "RD";
    case Command::kWr:
      return "WR";
    case Command::kRda:
      return "RDA";
    case Command::kWra:
      return "WRA";
    case Command::kRefAll:
      return "REFab";
    case Command::kRefBank:
      return "REFpb";
  }
  return "?";
}

const char* to_string(BankState state) {
  switch (state) {
    case BankState::kIdle:
      return "idle";
    case BankState::kActive:
      return "active";
    case BankState::kRefreshing:
      return "refreshing";
  }
  return "?";
}

}  // namespace npuvp::dram
