#include "models/dma/dma_engine.h"

#include <algorithm>
#include <cstring>

#include "models/common/log.h"
#include "models/common/sim_control.h"

namespace npuvp::dma {

DmaEngine::DmaEngine(const sc_core::sc_module_name& name, const DmaConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      system_socket("system_socket"),
      noc_sockets("noc_socket", config.noc_ports),
      irq("irq", config.channels),
      config_(config),
      clock_period_(sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS)),
      channels_(config.channels),
      log_(log::component(this->name())) {
  target_socket.register_b_transport(this, &DmaEngine::b_transport);
  target_socket.register_transport_dbg(this, &DmaEngine::transport_dbg);
  for (unsigned ch = 0; ch < config_.channels; ++ch) {
    Channel& c = channels_[ch];
    c.burst_buffer.resize(config_.max_burst_bytes);
    c.registers = std::make_unique<regs::RegisterFile>(
        std::string(this->name()) + ".ch" + std::to_string(ch),
        std::vector<regs::RegisterSpec>(kChannelRegisters.begin(), kChannelRegisters.end()));
    c.registers->on_write(reg::kCtrl, [this, ch](std::uint32_t v) {
      Channel& chan = channels_[ch];
      if ((v & kCtrlStart) == 0) return;
      if (chan.registers->get(reg::kStatus) & kStatusBusy) {
        log_->warn("channel {}: START while busy is ignored", ch);
        return;
      }
      chan.registers->set(reg::kStatus, kStatusBusy);
      chan.start.notify(sc_core::SC_ZERO_TIME);
    });
    c.registers->on_write(reg::kIrq, [this, ch](std::uint32_t) { update_irq(ch); });
    sc_core::sc_spawn_options opts;
    sc_core::sc_spawn([this, ch] { sim::guard([this, ch] { channel_thread(ch); }); },
                      (std::string("channel") + std::to_string(ch)).c_str(), &opts);
  }
}

void DmaEngine::attach_trace(trace::VcdRecorder& recorder) {
  for (unsigned ch = 0; ch < config_.channels; ++ch) {
    const std::string scope = std::string(name()) + ".ch" + std::to_string(ch);
    channels_[ch].busy_trace.bind(recorder, scope + ".busy");
    channels_[ch].irq_trace.bind(recorder, scope + ".irq");
  }
}

void DmaEngine::attach_timeline(trace::TimelineRecorder& recorder) {
  for (unsigned ch = 0; ch < config_.channels; ++ch)
    channels_[ch].timeline.bind(recorder, std::string(name()) + ".ch" + std::to_string(ch));
}

void DmaEngine::update_irq(unsigned ch) {
  const std::uint32_t bits = channels_[ch].registers->get(reg::kIrq);
  if ((bits != 0) != irq[ch].read())
    log_->debug("channel {}: interrupt {} (IRQ {:#x})", ch, bits ? "raised" : "cleared", bits);
  irq[ch].write(bits != 0);
  channels_[ch].irq_trace.set(sc_core::sc_time_stamp(), bits != 0);
}

void DmaEngine::channel_thread(unsigned ch) {
  Channel& c = channels_[ch];
  for (;;) {
    sc_core::wait(c.start);
    const sc_core::sc_time began = sc_core::sc_time_stamp();
    const std::uint32_t bytes_before = c.registers->get(reg::kBytesDone);
    const std::uint64_t first = (std::uint64_t{c.registers->get(reg::kDescHi)} << 32) | c.registers->get(reg::kDescLo);
    c.busy_trace.set(began, 1);
    std::uint64_t failed_address = 0;
    const DmaError error = run_chain(ch, failed_address);
    c.busy_trace.set(sc_core::sc_time_stamp(), 0);
    if (c.timeline.bound())
      c.timeline.slice(error == DmaError::kNone ? "transfer" : "transfer (error)", "dma", began,
                       sc_core::sc_time_stamp(),
                       {{"descriptor", fmt::format("{:#x}", first)},
                        {"bytes", static_cast<std::int64_t>(c.registers->get(reg::kBytesDone) - bytes_before)}});
    stats_.busy_time += sc_core::sc_time_stamp() - began;
    std::uint32_t irq_bits = c.registers->get(reg::kIrq);
    if (error == DmaError::kNone) {
      irq_bits |= kIrqDone;
    } else {
      ++stats_.errors;
      irq_bits |= kIrqError;
      c.registers->set(reg::kErrorAddrLo, static_cast<std::uint32_t>(failed_address));
      c.registers->set(reg::kErrorAddrHi, static_cast<std::uint32_t>(failed_address >> 32));
      log_->warn("channel {}: transfer failed with error {} at address {:#x}", ch, static_cast<unsigned>(error),
                 failed_address);
    }
    c.registers->set(reg::kStatus, static_cast<std::uint32_t>(error) << 8);
    c.registers->set(reg::kIrq, irq_bits);
    update_irq(ch);
  }
}

DmaError DmaEngine::run_chain(unsigned ch, std::uint64_t& failed_address) {
  Channel& c = channels_[ch];
  std::uint64_t next = (std::uint64_t{c.registers->get(reg::kDescHi)} << 32) | c.registers->get(reg::kDescLo);
  Cursor cursor;
  // A chain longer than this is taken for a loop in the list, not a transfer.
  constexpr unsigned kMaxChain = 1u << 20;
  for (unsigned n = 0; n < kMaxChain; ++n) {
    Descriptor d;
    if (next % 64 != 0) {
      failed_address = next;
      return DmaError::kDescriptorInvalid;
    }
    // The next descriptor is fetched once the reads of the previous one are
    // issued, while its data is still in flight.
    sc_core::sc_time fetch_at = cursor.read_issue;
    if (access(cursor.payload, tlm::TLM_READ_COMMAND, next, reinterpret_cast<std::uint8_t*>(&d), sizeof d, fetch_at) !=
        tlm::TLM_OK_RESPONSE) {
      failed_address = next;
      return DmaError::kDescriptorFetch;
    }
    cursor.read_issue = fetch_at + clock_period_ * config_.descriptor_cycles;
    ++stats_.descriptors;
    if (d.row_bytes == 0 || d.rows == 0 || d.planes == 0) {
      failed_address = next;
      return DmaError::kDescriptorInvalid;
    }
    log_->debug(
        "channel {}: descriptor at {:#x}: {:#x} -> {:#x}, {} planes x {} rows x {} bytes, pitches src {}/{} "
        "dst {}/{}, flags {:#x}",
        ch, next, d.src, d.dst, d.planes, d.rows, d.row_bytes, d.src_row_pitch, d.src_plane_pitch, d.dst_row_pitch,
        d.dst_plane_pitch, d.flags);
    const DmaError e = run_descriptor(d, c.burst_buffer.data(), cursor, failed_address);
    if (e != DmaError::kNone) return e;
    const std::uint32_t done = c.registers->get(reg::kBytesDone);
    c.registers->set(reg::kBytesDone,
                     done + static_cast<std::uint32_t>(std::uint64_t{d.row_bytes} * d.rows * d.planes));
    if (d.flags & kDescLast) break;
    next = d.next;
  }
  sc_core::wait(std::max(cursor.done, cursor.read_issue));
  return DmaError::kNone;
}

DmaError DmaEngine::run_descriptor(const Descriptor& d, std::uint8_t* buffer, Cursor& cursor,
                                   std::uint64_t& failed_address) {
  for (std::uint32_t p = 0; p < d.planes; ++p) {
    for (std::uint32_t r = 0; r < d.rows; ++r) {
      const std::uint64_t src_row = d.src + std::int64_t{p} * d.src_plane_pitch + std::int64_t{r} * d.src_row_pitch;
      const std::uint64_t dst_row = d.dst + std::int64_t{p} * d.dst_plane_pitch + std::int64_t{r} * d.dst_row_pitch;
      for (std::uint32_t off = 0, len = 0; off < d.row_bytes; off += len) {
        // Bursts never cross a max_burst_bytes-aligned boundary (AXI's 4 KiB
        // rule); the NoC splits one that spans several SRAM banks. Reads are
        // aligned to the source and each one's data is written in as many
        // bursts as it spans destination-aligned blocks, as a data
        // realignment engine does: a source and destination misaligned to
        // each other still read in whole bursts, not in two pieces each.
        const std::uint64_t boundary = config_.max_burst_bytes;
        const std::uint64_t lead = (d.flags & kDescFill) ? dst_row + off : src_row + off;
        len = static_cast<std::uint32_t>(std::min<std::uint64_t>(boundary - lead % boundary, d.row_bytes - off));
        // A read needs a free read slot and a free burst buffer entry (freed
        // when the writes of the burst max_outstanding back completed).
        sc_core::sc_time read_at = cursor.read_issue;
        if (cursor.reads_in_flight.size() >= config_.max_outstanding) {
          read_at = std::max(read_at, cursor.reads_in_flight.front());
          cursor.reads_in_flight.pop_front();
        }
        if (cursor.writes_in_flight.size() >= config_.max_outstanding) {
          read_at = std::max(read_at, cursor.writes_in_flight.front());
          cursor.writes_in_flight.pop_front();
        }
        sc_core::sc_time read_done = read_at;
        if (d.flags & kDescFill) {
          std::memset(buffer, static_cast<int>(d.reserved & 0xFF), len);
        } else if (access(cursor.payload, tlm::TLM_READ_COMMAND, src_row + off, buffer, len, read_done) !=
                   tlm::TLM_OK_RESPONSE) {
          failed_address = src_row + off;
          return DmaError::kSourceAccess;
        }
        cursor.read_issue = read_at + occupancy(len);
        cursor.reads_in_flight.push_back(read_done);
        sc_core::sc_time written = read_done;
        for (std::uint32_t w = 0, piece = 0; w < len; w += piece) {
          const std::uint64_t dst = dst_row + off + w;
          piece = static_cast<std::uint32_t>(std::min<std::uint64_t>(boundary - dst % boundary, len - w));
          sc_core::sc_time write_done = std::max(read_done, cursor.write_issue);
          const sc_core::sc_time write_at = write_done;
          if (access(cursor.payload, tlm::TLM_WRITE_COMMAND, dst, buffer + w, piece, write_done) !=
              tlm::TLM_OK_RESPONSE) {
            failed_address = dst;
            return DmaError::kDestinationAccess;
          }
          cursor.write_issue = write_at + occupancy(piece);
          written = std::max(written, write_done);
        }
        cursor.writes_in_flight.push_back(written);
        cursor.done = std::max(cursor.done, written);
        if (cursor.read_issue >= config_.quantum) sync(cursor);
      }
    }
  }
  return DmaError::kNone;
}

void DmaEngine::sync(Cursor& cursor) {
  // Let simulated time catch up with the read port so other initiators see
  // the shared memories in time order; later times stay relative to now.
  const sc_core::sc_time step = cursor.read_issue;
  sc_core::wait(step);
  auto rebase = [&](sc_core::sc_time& t) { t = t > step ? t - step : sc_core::SC_ZERO_TIME; };
  rebase(cursor.read_issue);
  rebase(cursor.write_issue);
  rebase(cursor.done);
  for (auto& t : cursor.reads_in_flight) rebase(t);
  for (auto& t : cursor.writes_in_flight) rebase(t);
}

tlm::tlm_response_status DmaEngine::access(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr,
                                           std::uint8_t* data, unsigned len, sc_core::sc_time& offset) {
  gp.set_command(cmd);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  const bool local =
      addr >= address_map::kLocalWindowBase && addr - address_map::kLocalWindowBase < address_map::kLocalWindowSize;
  gp.set_address(addr);
  if (local) {
    // Bursts take the ports in turn whatever their channel, as a striping
    // engine's arbiter does; the ports share the channels' burst window.
    noc_sockets[next_port_]->b_transport(gp, offset);
    next_port_ = (next_port_ + 1) % config_.noc_ports;
  } else {
    system_socket->b_transport(gp, offset);
  }
  if (gp.is_response_ok()) {
    const bool read = cmd == tlm::TLM_READ_COMMAND;
    (local ? (read ? stats_.local_read_bytes : stats_.local_write_bytes)
           : (read ? stats_.system_read_bytes : stats_.system_write_bytes)) += len;
  }
  return gp.get_response_status();
}

void DmaEngine::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const std::uint64_t addr = gp.get_address();
  const unsigned ch = static_cast<unsigned>(addr / kChannelStride);
  if (ch >= config_.channels) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  gp.set_address(addr % kChannelStride);
  gp.set_response_status(channels_[ch].registers->access(gp));
  gp.set_address(addr);
  delay += clock_period_;
}

unsigned DmaEngine::transport_dbg(tlm::tlm_generic_payload& gp) {
  const std::uint64_t addr = gp.get_address();
  const unsigned ch = static_cast<unsigned>(addr / kChannelStride);
  if (ch >= config_.channels) return 0;
  gp.set_address(addr % kChannelStride);
  const unsigned n = channels_[ch].registers->debug_access(gp);
  gp.set_address(addr);
  return n;
}

void DmaEngine::sample(stats::Counters& into, const sc_core::sc_time&) {
  into.add(stats::Counter::kDmaSystemBytes, static_cast<double>(stats_.system_read_bytes + stats_.system_write_bytes));
  into.add(stats::Counter::kDmaLocalBytes, static_cast<double>(stats_.local_read_bytes + stats_.local_write_bytes));
}

nlohmann::json DmaEngine::stats_json() const {
  return {{"descriptors", stats_.descriptors},
          {"system_read_bytes", stats_.system_read_bytes},
          {"system_write_bytes", stats_.system_write_bytes},
          {"local_read_bytes", stats_.local_read_bytes},
          {"local_write_bytes", stats_.local_write_bytes},
          {"errors", stats_.errors},
          {"busy_ns", stats_.busy_time.to_seconds() * 1e9}};
}

}  // namespace npuvp::dma
