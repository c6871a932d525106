#include "firmware/layer_runner.h"

#include <algorithm>
#include <cstring>

namespace npuvp::firmware {
namespace {

constexpr bool same_number(Datatype a, pe_array::Datatype b) {
  return static_cast<std::uint32_t>(a) == static_cast<std::uint32_t>(b);
}
static_assert(same_number(Datatype::kInt8, pe_array::Datatype::kInt8) &&
                  same_number(Datatype::kInt4, pe_array::Datatype::kInt4) &&
                  same_number(Datatype::kInt16, pe_array::Datatype::kInt16) &&
                  same_number(Datatype::kFp16, pe_array::Datatype::kFp16),
              "the firmware passes the command's datatype to the clusters unchanged");

}  // namespace

pe_array::ClusterJob LayerRunner::job_template() const {
  pe_array::ClusterJob job{};
  switch (op_) {
    case Opcode::kConv2d:
      job.op = static_cast<std::uint32_t>(pe_array::JobOp::kConv2d);
      break;
    case Opcode::kMaxPool:
      job.op = static_cast<std::uint32_t>(pe_array::JobOp::kMaxPool);
      break;
    case Opcode::kAvgPool:
      job.op = static_cast<std::uint32_t>(pe_array::JobOp::kAvgPool);
      break;
    default:
      job.op = static_cast<std::uint32_t>(pe_array::JobOp::kAdd);
      break;
  }
  job.dataflow = static_cast<std::uint32_t>(dataflow_);
  job.datatype = l_.datatype;
  job.in_w = l_.in_w;
  job.in_c = l_.in_c;
  job.in_row_pitch = l_.in_w * input_bytes(l_, l_.in_c);
  job.origin_x = -static_cast<std::int32_t>(l_.pad_left);
  job.out_w = conv_width(l_);
  contract::write_window_fields(job, read_window(l_));
  job.input_zero_point = l_.input_zero_point;
  job.output_zero_point = l_.output_zero_point;
  job.act_min = l_.act_min;
  job.act_max = l_.act_max;
  if (op_ == Opcode::kConv2d) {
    job.group_in = l_.in_c / l_.groups;
    job.group_out = l_.out_c / l_.groups;
  }
  if (op_ == Opcode::kAvgPool && (l_.flags & kPoolCountIncludePad)) job.flags |= pe_array::kJobCountIncludePad;
  if (op_ == Opcode::kConv2d && (l_.flags & kFp16Relu)) job.flags |= pe_array::kJobFp16Relu;
  if (packed_input(l_)) job.flags |= pe_array::kJobPackedInput;
  if (packed_output(l_)) job.flags |= pe_array::kJobPackedOutput;
  if (l_.flags & kInt16Output) job.flags |= pe_array::kJobInt16Output;
  if (l_.flags & kInt8Output) job.flags |= pe_array::kJobInt8Output;
  job.image_h = l_.in_h;
  job.image_w = l_.in_w;
  job.in2_zero_point = l_.add.input2_zero_point;
  job.left_shift = l_.add.left_shift;
  job.in1_multiplier = l_.add.input1_multiplier;
  job.in1_shift = l_.add.input1_shift;
  job.in2_multiplier = l_.add.input2_multiplier;
  job.in2_shift = l_.add.input2_shift;
  job.out_multiplier = l_.add.output_multiplier;
  job.out_shift = l_.add.output_shift;
  if (fuses_add(l_)) {
    job.fuse = pe_array::kJobFuseAdd;
    job.fused_output_zero_point = l_.fused_output_zero_point;
    job.fused_act_min = l_.fused_act_min;
    job.fused_act_max = l_.fused_act_max;
  }
  if (fuses_pool(l_)) {
    job.fuse =
        l_.fuse == static_cast<std::uint32_t>(Fuse::kMaxPool) ? pe_array::kJobFuseMaxPool : pe_array::kJobFuseAvgPool;
    job.fused_act_min = l_.fused_act_min;
    job.fused_act_max = l_.fused_act_max;
    if (l_.flags & kPoolCountIncludePad) job.flags |= pe_array::kJobCountIncludePad;
  }
  return job;
}

LayerRunner::Issued LayerRunner::issue(std::uint32_t tile, std::uint32_t kb, JobBuffers buffers) {
  hal_.spend_cycles(kTileSetupCycles);
  Issued issued{next_table_, 0};
  next_table_ ^= 1u;
  const std::uint64_t table = job_table(issued.table);
  const std::uint32_t row0 = first_row(tile);
  const std::uint32_t rows = tile_rows(tile);
  const std::uint32_t tile_lo = input_row_range(l_, row0, rows).first;
  const std::uint32_t channels = block_input_channels(l_, kb);
  const auto [x0, x1] = grid_.input_cols(l_, tile);
  const std::uint32_t col0 = grid_.first_col(tile), cols = grid_.cols(tile);
  const std::uint32_t row_bytes = (x1 - x0) * input_bytes(l_, channels);
  const unsigned buffer = input_buffer(tile);
  const std::uint32_t rows_per_group = ceil_div(rows, t_.row_groups);
  const std::uint64_t filter = filter_bytes(l_);
  const pe_array::ClusterJob base = job_template();
  // The jobs of one K slice load the same weights: as an operand group, the
  // row group 0 job's cluster reads them once for all (cluster_regs.h).
  const std::uint32_t slices = ceil_div(kb, t_.k_slice);
  const bool grouped = groups_operands(l_, npu_, t_, rows, buffers.load_weights);
  std::vector<pe_array::ClusterJob> jobs;
  for (std::uint32_t rg = 0; rg < t_.row_groups; ++rg) {
    const std::uint32_t my0 = rg * rows_per_group;
    if (my0 >= rows) break;
    const std::uint32_t my_rows = std::min(rows_per_group, rows - my0);
    const auto [lo, hi] = input_row_range(l_, row0 + my0, my_rows);
    for (std::uint32_t ks = 0; ks < kb; ks += t_.k_slice) {
      pe_array::ClusterJob job = base;
      const std::uint32_t k_count = std::min(t_.k_slice, kb - ks);
      job.flags |= buffers.load_weights ? pe_array::kJobLoadWeights : 0;
      if (keeps_rows(static_cast<std::uint32_t>(jobs.size()), slices, buffers.kept_after))
        job.flags |= pe_array::kJobKeepInput;
      if (grouped) {
        job.group_stride = static_cast<std::uint8_t>(slices);
        job.group_size = static_cast<std::uint8_t>(ceil_div(rows, rows_per_group));
      }
      const std::uint64_t in_offset = std::uint64_t{lo - tile_lo} * row_bytes;
      job.in_addr = static_cast<std::uint32_t>(input_at(tile, buffer) + in_offset);
      job.in2_addr = static_cast<std::uint32_t>(input2_at(tile, buffer) + in_offset);
      job.in_h = hi - lo;
      job.tile_row0 = static_cast<std::int32_t>(lo);
      const std::uint32_t conv0 = conv_row_range(l_, row0 + my0, my_rows).first;
      job.origin_y = static_cast<std::int32_t>(std::int64_t{conv0} * l_.stride_h - l_.pad_top - lo);
      if (op_ == Opcode::kConv2d && l_.groups == 1) job.group_out = k_count;
      job.in_c = channels;
      job.in_row_pitch = row_bytes;
      if (!grid_.whole_width()) {
        job.in_w = x1 - x0;
        job.origin_x = static_cast<std::int32_t>(std::int64_t{col0} * l_.stride_w - l_.pad_left - x0);
        job.out_w = cols;
      }
      job.in_channel_offset = op_ == Opcode::kConv2d ? ks / job.group_out * job.group_in : ks;
      if (op_ == Opcode::kConv2d && l_.groups == 1) job.in_channel_offset = 0;
      if (t_.reduction_chunks > 1) {
        // One run of the filters' input channels; the sums are held from a
        // K block's chunk to the next (contract/cluster_regs.h).
        const BlockChunk& c = buffers.chunk;
        job.in_channel_offset = c.chunk * chunk_channels(l_, t_);
        job.group_in = chunk_channel_count(l_, t_, c.chunk);
        job.flags |= (c.chunk > 0 ? pe_array::kJobAccumulate : 0) | (c.last_chunk ? 0 : pe_array::kJobHoldSums);
      }
      job.out_addr =
          static_cast<std::uint32_t>(sram(t_.output_offset[buffers.output]) +
                                     std::uint64_t{my0} * cols * output_bytes(l_, kb) + output_bytes(l_, ks));
      job.out_h = my_rows;
      if (fuses_pool(l_)) set_pool_epilogue(job, row0 + my0, my_rows);
      job.out_pixel_pitch = output_bytes(l_, kb);
      job.out_row_pitch = cols * output_bytes(l_, kb);
      job.k_count = k_count;
      job.weights_addr =
          static_cast<std::uint32_t>(buffers.streamed ? streamed_weights_addr(jobs.size(), buffers.weights)
                                                      : sram(t_.weights_offset[buffers.weights]) + ks * filter);
      job.bias_addr = static_cast<std::uint32_t>(sram(t_.bias_offset[buffers.weights]) + ks * 4ull);
      job.requant_addr = static_cast<std::uint32_t>(sram(t_.requant_offset[buffers.weights]) + ks * 8ull);
      if (fuses_add(l_)) {
        const std::uint32_t c = residual_channels(l_, t_.order == LoopOrder::kRowTilesOuter, kb);
        job.in2_pixel_pitch = static_cast<std::uint16_t>(c);
        job.in2_addr = static_cast<std::uint32_t>(input2_at(tile, buffer) + std::uint64_t{my0} * cols * c +
                                                  (c == kb ? 0 : buffers.k0) + ks);
      }
      jobs.push_back(job);
    }
  }
  issued.jobs = static_cast<std::uint32_t>(jobs.size());
  const std::uint64_t status = job_status_bytes(npu_);
  std::vector<std::uint8_t> bytes(status + jobs.size() * sizeof(pe_array::ClusterJob), 0);
  for (unsigned c = 0; c < jobs.size(); ++c) {
    jobs[c].status_addr = static_cast<std::uint32_t>(table + c * 4);
    std::memcpy(&bytes[status + c * sizeof(pe_array::ClusterJob)], &jobs[c], sizeof(pe_array::ClusterJob));
  }
  hal_.write(table, bytes.data(), bytes.size());
  const auto table_jobs = static_cast<std::uint32_t>(table + status);
  hal_.write_multicast(cluster_registers(npu_, issued.jobs, pe_array::reg::kJobAddr), &table_jobs, sizeof table_jobs);
  const std::uint32_t start = pe_array::kCtrlStartTable;
  hal_.write_multicast(cluster_registers(npu_, issued.jobs, pe_array::reg::kCtrl), &start, sizeof start);
  return issued;
}

void LayerRunner::set_pool_epilogue(pe_array::ClusterJob& job, std::uint32_t row0, std::uint32_t rows) const {
  const auto [c0, c1] = conv_row_range(l_, row0, rows);
  const contract::Window w = read_pool_window(l_);
  job.out_h = c1 - c0;
  pe_array::PoolEpilogue e{};
  e.kernel_h = l_.pool_kernel_h;
  e.kernel_w = l_.pool_kernel_w;
  e.stride_h = l_.pool_stride_h;
  e.stride_w = l_.pool_stride_w;
  e.pad_top = l_.pool_pad_top;
  e.pad_left = l_.pool_pad_left;
  e.pad_bottom = l_.pool_pad_bottom;
  e.pad_right = l_.pool_pad_right;
  e.origin_y = static_cast<std::int32_t>(std::int64_t{row0} * w.stride_h - w.pad.top - c0);
  e.out_h = static_cast<std::uint16_t>(rows);
  e.out_w = static_cast<std::uint16_t>(l_.out_w);
  e.image_h = l_.conv_out_h;
  e.image_w = l_.conv_out_w;
  e.first_row = static_cast<std::int32_t>(c0);
  pe_array::write_pool_epilogue(job, e);
}

bool LayerRunner::jobs_ended(const Issued& issued) {
  std::vector<std::uint32_t> status(issued.jobs);
  hal_.read(job_table(issued.table), status.data(), status.size() * 4);
  return std::all_of(status.begin(), status.end(), [](std::uint32_t s) { return (s & pe_array::kJobStatusDone) != 0; });
}

void wait_cluster_jobs(Hal& hal, std::uint64_t table, unsigned jobs) {
  const NpuLayout& npu = hal.layout();
  const std::vector<std::uint64_t> irqs = cluster_registers(npu, jobs, pe_array::reg::kIrq);
  std::vector<std::uint32_t> status(jobs);
  std::uint64_t raised = 0;
  for (;;) {
    hal.read(table, status.data(), status.size() * 4);
    std::uint64_t pending = 0;
    bool stale = false;
    for (unsigned c = 0; c < jobs; ++c) {
      const std::uint64_t line = std::uint64_t{1} << (npu.cluster_irq_base + c);
      if ((status[c] & pe_array::kJobStatusDone) == 0) {
        pending |= line;
        if ((raised & line) == 0) continue;
        const std::uint32_t irq = hal.read32(irqs[c]);
        if (irq & pe_array::kIrqError) throw FirmwareError{npu::NpuError::kClusterFault, c};
        if (irq == 0) continue;
        // Done with this job not done: the IRQ of the cluster's job before,
        // whose status word the last wait read before the line rose, raised
        // after that wait's clear. Left high, the line would wake every wait
        // at once and the table be read over and over until this job ends.
        hal.write32(irqs[c], irq);
        raised &= ~line;
        stale = true;
      } else if ((status[c] >> 8 & 0xFF) != 0) {
        throw FirmwareError{npu::NpuError::kClusterFault, c};
      }
    }
    if (pending == 0) break;
    // After a clear the table is read again: the job may have ended, and its
    // own IRQ been cleared with the stale one, before the clear arrived.
    if (!stale) raised = hal.wait_events(pending);
  }
  const std::uint32_t done = pe_array::kIrqDone;
  hal.write_multicast(irqs, &done, sizeof done);
}

void LayerRunner::wait_jobs(const Issued& issued) { wait_cluster_jobs(hal_, job_table(issued.table), issued.jobs); }

}  // namespace npuvp::firmware
