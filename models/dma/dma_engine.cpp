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
    c.burst_buffer.resize(std::size_t{config_.max_burst_bytes} * config_.max_outstanding);
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
  Cursor cursor(sc_core::sc_time_stamp());
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
    if (!write_due(cursor, c.burst_buffer.data(), cursor.read_issue, failed_address))
      return DmaError::kDestinationAccess;
    sc_core::sc_time fetched = std::max(cursor.read_issue, sc_core::sc_time_stamp());
    if (access(cursor.payload, tlm::TLM_READ_COMMAND, next, reinterpret_cast<std::uint8_t*>(&d), sizeof d, fetched,
               port_for(next)) != tlm::TLM_OK_RESPONSE) {
      failed_address = next;
      return DmaError::kDescriptorFetch;
    }
    cursor.read_issue = fetched + clock_period_ * config_.descriptor_cycles;
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
  if (!write_due(cursor, c.burst_buffer.data(), sc_core::sc_max_time(), failed_address))
    return DmaError::kDestinationAccess;
  wait_until(std::max(cursor.done, cursor.read_issue));
  return DmaError::kNone;
}

DmaError DmaEngine::run_descriptor(const Descriptor& d, std::uint8_t* buffer, Cursor& cursor,
                                   std::uint64_t& failed_address) {
  const bool fill = (d.flags & kDescFill) != 0;
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
        const std::uint64_t lead = fill ? dst_row + off : src_row + off;
        len = static_cast<std::uint32_t>(std::min<std::uint64_t>(boundary - lead % boundary, d.row_bytes - off));
        // A read needs a free read slot and a free burst buffer entry (freed
        // when the writes of the burst max_outstanding back completed), and
        // goes after the writes due before it.
        const std::uint64_t read_from = fill ? 0 : src_row + off, read_len = fill ? 0 : len;
        sc_core::sc_time read_at;
        bool reads_full = false, buffer_full = false;
        for (;;) {
          reads_full = cursor.reads_in_flight.size() >= config_.max_outstanding;
          buffer_full = cursor.writes_in_flight.size() + cursor.unwritten.size() >= config_.max_outstanding;
          if (buffer_full && cursor.writes_in_flight.empty()) {
            if (!write_oldest(cursor, buffer, failed_address)) return DmaError::kDestinationAccess;
            continue;
          }
          read_at = std::max(cursor.read_issue, sc_core::sc_time_stamp());
          if (reads_full) read_at = std::max(read_at, cursor.reads_in_flight.front());
          if (buffer_full) read_at = std::max(read_at, cursor.writes_in_flight.front());
          const std::size_t unwritten = cursor.unwritten.size();
          if (!write_before_read(cursor, buffer, read_at, read_from, read_len, failed_address))
            return DmaError::kDestinationAccess;
          // Writes issued may have let time pass: the slots are looked up again.
          if (cursor.unwritten.size() != unwritten) continue;
          // A read waiting for a slot goes out at its time too.
          if (ahead(read_at) < config_.quantum) break;
          wait_until(read_at);
        }
        // The slots the read waited for are its own now.
        if (reads_full) cursor.reads_in_flight.pop_front();
        if (buffer_full) cursor.writes_in_flight.pop_front();
        Unwritten burst{read_at, cursor.next_entry, 0, {}};
        cursor.next_entry = (cursor.next_entry + 1) % config_.max_outstanding;
        std::uint8_t* data = buffer + std::size_t{burst.entry} * config_.max_burst_bytes;
        if (fill) {
          std::memset(data, static_cast<int>(d.reserved & 0xFF), len);
        } else if (access(cursor.payload, tlm::TLM_READ_COMMAND, src_row + off, data, len, burst.read_done,
                          port_for(src_row + off)) != tlm::TLM_OK_RESPONSE) {
          failed_address = src_row + off;
          // The bursts read before it are still written, as they were issued.
          std::uint64_t ignored = 0;
          write_due(cursor, buffer, sc_core::sc_max_time(), ignored);
          return DmaError::kSourceAccess;
        }
        cursor.read_issue = read_at + occupancy(len);
        cursor.reads_in_flight.push_back(burst.read_done);
        for (std::uint32_t w = 0, piece = 0; w < len; w += piece) {
          const std::uint64_t dst = dst_row + off + w;
          piece = static_cast<std::uint32_t>(std::min<std::uint64_t>(boundary - dst % boundary, len - w));
          burst.piece[burst.pieces++] = {dst, w, piece, port_for(dst)};
        }
        cursor.unwritten_lo = std::min(cursor.unwritten_lo, dst_row + off);
        cursor.unwritten_hi = std::max(cursor.unwritten_hi, dst_row + off + len);
        cursor.unwritten.push_back(burst);
        if (ahead(cursor.read_issue) >= config_.quantum) {
          if (!write_due(cursor, buffer, cursor.read_issue, failed_address)) return DmaError::kDestinationAccess;
          wait_until(cursor.read_issue);
        }
      }
    }
  }
  return DmaError::kNone;
}

bool DmaEngine::write_before_read(Cursor& cursor, std::uint8_t* buffer, sc_core::sc_time read_at, std::uint64_t src,
                                  std::uint64_t len, std::uint64_t& failed_address) {
  // A read after a write of the same bytes sees the written data, whatever
  // their times: the bursts up to the last one holding such bytes go first.
  std::size_t hazard = 0;
  if (src < cursor.unwritten_hi && cursor.unwritten_lo < src + len)
    for (std::size_t i = 0; i < cursor.unwritten.size(); ++i)
      for (unsigned k = 0; k < cursor.unwritten[i].pieces; ++k) {
        const Piece& piece = cursor.unwritten[i].piece[k];
        if (piece.dst < src + len && src < piece.dst + piece.len) hazard = i + 1;
      }
  for (; hazard > 0; --hazard)
    if (!write_oldest(cursor, buffer, failed_address)) return false;
  return write_due(cursor, buffer, read_at, failed_address);
}

bool DmaEngine::write_due(Cursor& cursor, std::uint8_t* buffer, sc_core::sc_time until, std::uint64_t& failed_address) {
  const sc_core::sc_time deadline = std::max(until, sc_core::sc_time_stamp());
  while (!cursor.unwritten.empty()) {
    const sc_core::sc_time due =
        std::max({cursor.unwritten.front().read_done, cursor.write_issue, sc_core::sc_time_stamp()});
    if (due > deadline) break;
    if (!write_oldest(cursor, buffer, failed_address)) return false;
  }
  return true;
}

bool DmaEngine::write_oldest(Cursor& cursor, std::uint8_t* buffer, std::uint64_t& failed_address) {
  const Unwritten burst = cursor.unwritten.front();
  cursor.unwritten.pop_front();
  if (cursor.unwritten.empty()) {
    cursor.unwritten_lo = ~std::uint64_t{0};
    cursor.unwritten_hi = 0;
  }
  std::uint8_t* data = buffer + std::size_t{burst.entry} * config_.max_burst_bytes;
  sc_core::sc_time written = burst.read_done;
  for (unsigned k = 0; k < burst.pieces; ++k) {
    const Piece& piece = burst.piece[k];
    const sc_core::sc_time write_at = std::max({burst.read_done, cursor.write_issue, sc_core::sc_time_stamp()});
    // Within a quantum of its time, as the reads are.
    if (ahead(write_at) >= config_.quantum) wait_until(write_at);
    sc_core::sc_time write_done = write_at;
    if (access(cursor.payload, tlm::TLM_WRITE_COMMAND, piece.dst, data + piece.at, piece.len, write_done, piece.port) !=
        tlm::TLM_OK_RESPONSE) {
      failed_address = piece.dst;
      return false;
    }
    cursor.write_issue = write_at + occupancy(piece.len);
    written = std::max(written, write_done);
  }
  cursor.writes_in_flight.push_back(written);
  cursor.done = std::max(cursor.done, written);
  return true;
}

unsigned DmaEngine::port_for(std::uint64_t addr) {
  const bool local =
      addr >= address_map::kLocalWindowBase && addr - address_map::kLocalWindowBase < address_map::kLocalWindowSize;
  if (!local) return config_.noc_ports;
  // Bursts take the ports in turn whatever their channel, as a striping
  // engine's arbiter does; the ports share the channels' burst window.
  const unsigned port = next_port_;
  next_port_ = (next_port_ + 1) % config_.noc_ports;
  return port;
}

tlm::tlm_response_status DmaEngine::access(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr,
                                           std::uint8_t* data, unsigned len, sc_core::sc_time& at, unsigned port) {
  gp.set_command(cmd);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_address(addr);
  sc_core::sc_time delay = ahead(at);
  const bool local = port < config_.noc_ports;
  if (local)
    noc_sockets[port]->b_transport(gp, delay);
  else
    system_socket->b_transport(gp, delay);
  // A target that waited inside b_transport returned its delay from the new now.
  at = sc_core::sc_time_stamp() + delay;
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
