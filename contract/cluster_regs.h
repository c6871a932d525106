#pragma once
// PE cluster programming interface: registers and the job descriptor the
// cluster fetches from SRAM. Shared by the model and the firmware.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "contract/register_spec.h"

namespace npuvp::pe_array {

inline constexpr std::uint32_t kClusterStride = 0x40;

namespace reg {
inline constexpr std::uint32_t kCtrl = 0x00;
inline constexpr std::uint32_t kStatus = 0x04;
inline constexpr std::uint32_t kIrq = 0x08;
inline constexpr std::uint32_t kJobAddr = 0x0C;
inline constexpr std::uint32_t kBusyCycles = 0x10;
inline constexpr std::uint32_t kJobsDone = 0x14;
inline constexpr std::uint32_t kClusterId = 0x18;
inline constexpr std::uint32_t kGroupReady = 0x1C;
}  // namespace reg

inline constexpr std::uint32_t kCtrlStart = 1u << 0;
// Start from a job table shared by the clusters: cluster ID fetches the job at
// JOB_ADDR + ID × sizeof(ClusterJob). One multicast write of JOB_ADDR and one
// of CTRL start every cluster of a tile.
inline constexpr std::uint32_t kCtrlStartTable = 1u << 1;
inline constexpr std::uint32_t kStatusBusy = 1u << 0;
inline constexpr std::uint32_t kIrqDone = 1u << 0;
inline constexpr std::uint32_t kIrqError = 1u << 1;

enum class JobError : std::uint32_t {
  kNone = 0,
  kFetch = 1,         // job descriptor could not be read
  kInvalid = 2,       // unknown op or inconsistent shapes
  kOperandRead = 3,   // an operand read returned an error response, or streamed weights never came
  kResultWrite = 4,   // the result write returned an error response
  kWeightBuffer = 5,  // weights do not fit the cluster's weight buffer
  // An operand group's rendezvous failed: group fields that do not describe
  // this cluster's group, a READY token from outside the group or for another
  // job table, or no token (leader) or fill (follower) within kGroupTimeoutCycles.
  kGroup = 6,
  // kJobKeepInput on a job whose tile the cluster does not hold.
  kInputNotResident = 7,
  // kJobAccumulate on a job whose cluster holds no sums of its shape (its
  // previous job did not end with kJobHoldSums, or held another shape).
  kSumsNotHeld = 8,
};

// Operand groups (ClusterJob::group_size >= 2): the clusters whose jobs of one
// table load the same weights, bias and requantization. Members are clusters
// leader + i × group_stride, i < group_size, the leader being CLUSTER_ID mod
// group_stride. Each follower, on reaching its weight load, writes its READY
// token (the job table's address, 64-byte aligned, ORed with its CLUSTER_ID) to
// the leader's GROUP_READY register; the leader, holding every follower's
// token for its table, reads the operands once with a forked response
// (noc::ReadForkExtension) that the NoC also writes into each follower's
// weight-fill window (address_map::kClusterFillBase + ID × kClusterFillStride):
// weights from offset 0, bias from kFillBiasOffset, requantization from
// kFillRequantOffset. A wait longer than kGroupTimeoutCycles ends the job
// with kGroup, so a mis-programmed group never hangs the NPU.
inline constexpr std::uint32_t kFillBiasOffset = 0x10'0000;
inline constexpr std::uint32_t kFillRequantOffset = 0x18'0000;
// Streamed weights: a job with kJobLoadWeights whose weights_addr lies in its
// own weight-fill window takes its weights from what another initiator (the
// DMA, straight from DRAM) writes there, into one of kFillStreamSlots slots:
// slot s from kFillStreamOffset + s × kFillStreamSlotBytes. The slots are the
// halves of the weight buffer (each holds at most half of it), so the DMA
// fills one while the array computes with the other; the job waits until its
// slot holds its weights' bytes, then frees the slot for the next fill (a
// writer must not fill a slot again before the job that took it has ended).
// Bias and requantization still come from bias_addr and requant_addr. Writes
// there are always the slots'; a group's fill takes the window below them.
inline constexpr std::uint32_t kFillStreamOffset = 0x8'0000;
inline constexpr std::uint32_t kFillStreamSlotBytes = 0x4'0000;
inline constexpr unsigned kFillStreamSlots = 2;
inline constexpr std::uint32_t kFillWeightBytes = kFillStreamOffset;  // the most a group's job may load
inline constexpr std::uint64_t kGroupTimeoutCycles = 1ull << 24;

inline constexpr std::array<regs::RegisterSpec, 8> kClusterRegisters{{
    {"CTRL", reg::kCtrl, 0, regs::Access::kWriteOnly,
     "bit0 START: fetch the job at JOB_ADDR and run it; bit1 START_TABLE: the job at JOB_ADDR + CLUSTER_ID * 192. "
     "While busy the job is queued if the job queue has room (else ignored)"},
    {"STATUS", reg::kStatus, 0, regs::Access::kReadOnly, "bit0 BUSY; bits 15:8 error code of the last job"},
    {"IRQ", reg::kIrq, 0, regs::Access::kWriteOneToClear, "bit0 DONE, bit1 ERROR; the cluster's IRQ line is their OR"},
    {"JOB_ADDR", reg::kJobAddr, 0, regs::Access::kReadWrite,
     "NPU-local address of the job descriptor (64-byte aligned)"},
    {"BUSY_CYCLES", reg::kBusyCycles, 0, regs::Access::kReadOnly, "cycles the MAC array computed since reset (wraps)"},
    {"JOBS_DONE", reg::kJobsDone, 0, regs::Access::kReadOnly, "jobs completed since reset"},
    {"CLUSTER_ID", reg::kClusterId, 0, regs::Access::kReadOnly, "the cluster's index in the NPU"},
    {"GROUP_READY", reg::kGroupReady, 0, regs::Access::kWriteOnly,
     "an operand group follower's READY token: its job table's address ORed with its CLUSTER_ID (leader only)"},
}};

// Written to a job's status_addr (when not 0) once the job is over, before
// the IRQ: the firmware learns of a whole tile's jobs with one SRAM read.
inline constexpr std::uint32_t kJobStatusDone = 1u << 0;  // bits 15:8: the JobError

enum class JobOp : std::uint32_t { kConv2d = 1, kMaxPool = 2, kAvgPool = 3, kAdd = 4 };
// kSpatialOutputStationary is ShiDianNao's (contract/systolic_timing.h): the
// array holds a 2-D patch of one output channel's outputs.
enum class Dataflow : std::uint32_t { kWeightStationary = 0, kOutputStationary = 1, kSpatialOutputStationary = 2 };
inline constexpr unsigned kDataflows = 3;
// As the CLI, presets and reports name them.
inline constexpr const char* kDataflowNames[kDataflows] = {"ws", "os", "os2d"};
// Element format of a job's tile, weights and results (pooling and add: int8
// or int16); numbered as firmware::Datatype, semantics stated there.
enum class Datatype : std::uint32_t { kInt8 = 0, kInt4 = 1, kInt16 = 2, kFp16 = 3 };

// Bytes per element of an int4 tile or result that is not packed (packed
// int4, the job flags below and contract/int4_storage.h, is two per byte).
constexpr unsigned element_bytes(Datatype d) { return d == Datatype::kInt16 || d == Datatype::kFp16 ? 2 : 1; }

inline constexpr std::uint32_t kJobLoadWeights = 1u << 0;      // else the resident weights are reused
inline constexpr std::uint32_t kJobCountIncludePad = 1u << 1;  // average pool counts padded taps
inline constexpr std::uint32_t kJobFp16Relu = 1u << 2;         // fp16 convolution clamps its results at 0
// int4 values two per byte (contract/int4_storage.h): the input tile(s), in_c
// channels a pixel in ceil(in_c / 2) bytes; the results, k_count channels a
// pixel in ceil(k_count / 2) bytes. Only with int4 values (a kInt4
// convolution, or int8 pooling and add of int4 tensors).
inline constexpr std::uint32_t kJobPackedInput = 1u << 3;
inline constexpr std::uint32_t kJobPackedOutput = 1u << 4;
// A convolution's results stored at another integer width than its operands
// (firmware::kInt16Output / kInt8Output): an int8 job writes int16 values, an
// int16 job int8 values, clamped to that width.
inline constexpr std::uint32_t kJobInt16Output = 1u << 5;
inline constexpr std::uint32_t kJobInt8Output = 1u << 6;
// A convolution whose input tile is the one the cluster's previous job
// loaded (the same in_addr, rows, row pitch, width, channels and format,
// unchanged in SRAM since): the tile is still in the input buffer and is not
// fetched again. A row tile's K blocks run one after another on a cluster
// reuse it so, as NVDLA's convolution DMA reuses its buffer's data when its
// register says so. A job with the flag whose cluster holds no such tile
// ends with kInputNotResident; it is not a hint the cluster may ignore.
inline constexpr std::uint32_t kJobKeepInput = 1u << 7;
// A reduction split over several jobs (a filter longer than a streamed slot
// holds): kJobHoldSums ends a convolution with its sums held, neither
// requantized nor written; the cluster's next job, with kJobAccumulate and
// the same out_h, out_w, k_count and datatype, starts its sums from them
// instead of from the bias. Output stationary holds them in its PEs (the
// job's pixels within the array's rows), weight stationary where it spills
// its partial sums (in the input buffer, beside the tile); either way the
// job's channels within the array's columns, an integer convolution with
// nothing fused; anything else is kInvalid. Any job without kJobAccumulate discards held
// sums, and one with it that finds none of its shape ends with kSumsNotHeld.
// Sums wrap as the accumulator does, so a split gives the unsplit job's bits.
inline constexpr std::uint32_t kJobHoldSums = 1u << 8;
inline constexpr std::uint32_t kJobAccumulate = 1u << 9;
inline constexpr std::uint16_t kJobFuseAdd = 1;      // ClusterJob::fuse: residual add in the epilogue
inline constexpr std::uint16_t kJobFuseMaxPool = 2;  // max pool of the results (PoolEpilogue)
inline constexpr std::uint16_t kJobFuseAvgPool = 3;  // average pool of the results (PoolEpilogue)

// One job: out_h × out_w output pixels × k_count channels from an input tile
// held in SRAM (HWC, in_c channels per pixel, rows `in_row_pitch` bytes apart,
// elements of `datatype`; pitches and addresses are in bytes).
// Output pixel (oy, ox), tap (ky, kx) reads tile coordinate
// (origin_y + oy*stride_h + ky*dilation_h, origin_x + ox*stride_w + kx*dilation_w);
// coordinates outside the tile are padding (the input zero point).
//
// Convolution: output channel k belongs to group k / group_out and reads the
// group_in input channels from in_channel_offset + (k / group_out) * group_in;
// weights are OHWI with I = group_in. Pooling and add: output channel k is
// input channel in_channel_offset + k. Add reads a second tile of the same
// geometry at in2_addr.
struct ClusterJob {
  std::uint32_t op;
  std::uint32_t flags;
  std::uint32_t dataflow;
  std::uint32_t in_addr;
  std::uint32_t in_h, in_w, in_c;
  std::uint32_t in_row_pitch;
  std::int32_t origin_y, origin_x;
  std::uint32_t out_addr;
  std::uint32_t out_h, out_w;
  std::uint32_t out_pixel_pitch;  // bytes between output pixels (≥ k_count elements)
  std::uint32_t out_row_pitch;
  std::uint32_t k_count;
  std::uint32_t weights_addr;  // OHWI, k_count filters
  std::uint32_t bias_addr;     // int32 (fp16: fp32) per channel
  std::uint32_t requant_addr;  // per channel: int32 multiplier, int32 shift
  std::uint8_t kernel_h, kernel_w, stride_h, stride_w;
  std::uint8_t dilation_h, dilation_w;
  // Operand group (see kGroupTimeoutCycles above); group_size 0 or 1: none.
  std::uint8_t group_stride, group_size;
  std::int32_t input_zero_point;
  std::int32_t output_zero_point;
  std::int32_t act_min, act_max;
  std::uint32_t group_in, group_out;
  std::uint32_t in_channel_offset;
  // Average pooling with padded taps counted: the window is clipped to the
  // padded map, whose rows are [-pad_top, image_h + pad_bottom) in image rows
  // and tile row 0 is image row tile_row0.
  std::int32_t tile_row0;
  std::uint32_t image_h, image_w;
  std::uint16_t pad_top, pad_left, pad_bottom, pad_right;
  // Add (TFLite int8 ADD): ((x1 - zp1) << left_shift) * m1, same for input 2,
  // summed and scaled by the output multiplier.
  std::uint32_t in2_addr;
  std::int32_t in2_zero_point;
  std::int32_t left_shift;
  std::int32_t in1_multiplier, in1_shift;
  std::int32_t in2_multiplier, in2_shift;
  std::int32_t out_multiplier, out_shift;
  std::uint32_t datatype;     // Datatype (kConv2d)
  std::uint32_t status_addr;  // NPU-local address of the job's completion word, or 0
  // Convolution (int8) with fuse = kJobFuseAdd: the epilogue adds each
  // requantized result (input 1, zero point output_zero_point) to the
  // residual at in2_addr (out_h rows of out_w pixels, in2_pixel_pitch bytes
  // apart, k_count channels each) with the add fields above and writes the
  // sum around fused_output_zero_point, clamped to [fused_act_min, fused_act_max].
  std::uint16_t fuse;
  std::uint16_t in2_pixel_pitch;
  std::int32_t fused_output_zero_point;
  std::int32_t fused_act_min, fused_act_max;
};
static_assert(sizeof(ClusterJob) == 192, "job layout is part of the hardware interface");

// A convolution job with fuse = kJobFuseMaxPool or kJobFuseAvgPool pools its
// out_h × out_w × k_count int8 results (after their clamp) as a pooling job
// would pool a tile of them: pooled pixel (py, px), tap (ky, kx) reads result
// (origin_y + py*stride_h + ky, px*stride_w - pad_left + kx); results outside
// the job's are outside the map (result row 0 is map row first_row of a map
// of image_h × image_w, which the padding surrounds for a count of padded
// taps). The pooled out_h × out_w pixels are clamped to [fused_act_min,
// fused_act_max] and written instead of the results, at out_addr with the
// job's pitches. No add is fused with a pool, so the window is held where an
// add keeps its operands (from in2_addr on).
struct PoolEpilogue {
  std::uint8_t kernel_h, kernel_w, stride_h, stride_w;
  std::uint8_t pad_top, pad_left, pad_bottom, pad_right;
  std::int32_t origin_y;
  std::uint16_t out_h, out_w;
  std::uint16_t image_h, image_w;
  std::int32_t first_row;
};
inline constexpr std::size_t kPoolEpilogueOffset = offsetof(ClusterJob, in2_addr);
static_assert(kPoolEpilogueOffset + sizeof(PoolEpilogue) <= offsetof(ClusterJob, datatype),
              "the pool epilogue fits the add's operand fields");

inline bool fuses_pool(const ClusterJob& j) { return j.fuse == kJobFuseMaxPool || j.fuse == kJobFuseAvgPool; }

inline void write_pool_epilogue(ClusterJob& j, const PoolEpilogue& p) {
  std::memcpy(reinterpret_cast<unsigned char*>(&j) + kPoolEpilogueOffset, &p, sizeof p);
}

inline PoolEpilogue read_pool_epilogue(const ClusterJob& j) {
  PoolEpilogue p;
  std::memcpy(&p, reinterpret_cast<const unsigned char*>(&j) + kPoolEpilogueOffset, sizeof p);
  return p;
}

// The job fields of an operand group, for docs/registers.md.
inline constexpr std::array<regs::FieldSpec, 2> kClusterJobGroupFields{{
    {"group_stride", offsetof(ClusterJob, group_stride), 1,
     "CLUSTER_ID distance between the members of the job's operand group; the leader is CLUSTER_ID mod group_stride"},
    {"group_size", offsetof(ClusterJob, group_size), 1,
     "members of the group (>= 2: the weights, bias and requantization are multicast from the leader's one read)"},
}};

// The job fields of a fused epilogue, for docs/registers.md.
inline constexpr std::array<regs::FieldSpec, 9> kClusterJobFuseFields{{
    {"in2_addr", offsetof(ClusterJob, in2_addr), 4, "add: the second tile; fuse 1: the residual's first pixel"},
    {"in2_zero_point", offsetof(ClusterJob, in2_zero_point), 4, "zero point of the second input or residual"},
    {"left_shift", offsetof(ClusterJob, left_shift), 4, "add and fuse 1: both inputs shifted left before scaling"},
    {"in1_multiplier", offsetof(ClusterJob, in1_multiplier), 8, "multiplier and shift of input 1 (the conv result)"},
    {"in2_multiplier", offsetof(ClusterJob, in2_multiplier), 8, "multiplier and shift of input 2 (the residual)"},
    {"out_multiplier", offsetof(ClusterJob, out_multiplier), 8, "multiplier and shift of the sum"},
    {"fuse", offsetof(ClusterJob, fuse), 2,
     "convolution epilogue (int8 only): 0 none; 1 residual add; 2 max pool, 3 average pool (PoolEpilogue at in2_addr)"},
    {"in2_pixel_pitch", offsetof(ClusterJob, in2_pixel_pitch), 2, "fuse 1: bytes between residual pixels"},
    {"fused_output_zero_point", offsetof(ClusterJob, fused_output_zero_point), 12,
     "fuse 1: the sum's zero point, then its clamp (fused_act_min, fused_act_max)"},
}};

}  // namespace npuvp::pe_array
