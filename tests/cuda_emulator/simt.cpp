// SIMT execution for the CUDA emulator: the threads of a block run as fibers (ucontext) on the
// calling thread, one at a time, switching only at barriers: __syncthreads() for the block, and
// the two warp barriers of every shuffle (write your value, wait, read your source's, wait).
// Threads that return drop out of their barriers, as exited threads do on the GPU. A barrier no
// live thread can complete (divergent __syncthreads, a shuffle with an exited lane) aborts with
// a message: those are kernel bugs a GPU would hang or misbehave on.
#include <ucontext.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "emulator_internal.h"

namespace cuda_emulator {
namespace {

constexpr int kWarp = 32;
constexpr size_t kStackBytes = size_t{256} << 10;

enum class Wait { None, Warp, Block };

struct Fiber {
  ucontext_t context;
  uint3 index;
  int linear = 0;
  bool done = false;
  Wait wait = Wait::None;
  uint64_t wait_generation = 0;
};

struct Barrier {
  int live = 0, arrived = 0;
  uint64_t generation = 0;
};

struct Block {
  std::vector<Fiber> fibers;
  std::vector<Barrier> warps;
  std::vector<std::vector<uint64_t>> slots;  // per warp: each lane's shuffled value
  Barrier block;
  ucontext_t scheduler;
  int current = 0;
  const std::function<void()>* body = nullptr;
  std::vector<unsigned char> shared;
};

thread_local Block* g_block = nullptr;
thread_local std::vector<std::unique_ptr<char[]>> g_stacks;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "cuda emulator: %s (block %u,%u,%u thread %u,%u,%u)\n", what, blockIdx.x, blockIdx.y, blockIdx.z,
               threadIdx.x, threadIdx.y, threadIdx.z);
  std::abort();
}

Fiber& self() { return g_block->fibers[static_cast<size_t>(g_block->current)]; }

bool runnable(const Block& b, const Fiber& f) {
  if (f.done) return false;
  switch (f.wait) {
    case Wait::None: return true;
    case Wait::Warp: return b.warps[static_cast<size_t>(f.linear / kWarp)].generation != f.wait_generation;
    case Wait::Block: return b.block.generation != f.wait_generation;
  }
  return false;
}

// Arrive at `barrier`; the last live arrival releases everyone, the others switch out until then.
void arrive(Barrier& barrier, Wait kind) {
  Fiber& f = self();
  const uint64_t generation = barrier.generation;
  if (++barrier.arrived == barrier.live) {
    barrier.arrived = 0;
    ++barrier.generation;
    return;
  }
  f.wait = kind;
  f.wait_generation = generation;
  swapcontext(&f.context, &g_block->scheduler);
  f.wait = Wait::None;
}

// A thread leaving: it no longer counts in its barriers, which may now be complete.
void drop_out(Barrier& barrier) {
  --barrier.live;
  if (barrier.arrived > 0 && barrier.arrived == barrier.live) {
    barrier.arrived = 0;
    ++barrier.generation;
  }
}

void fiber_main() {
  Fiber& f = self();
  (*g_block->body)();
  f.done = true;
  drop_out(g_block->warps[static_cast<size_t>(f.linear / kWarp)]);
  drop_out(g_block->block);
  // Returning resumes uc_link: the scheduler.
}

void run_block(Block& b) {
  const size_t n = b.fibers.size();
  while (g_stacks.size() < n) g_stacks.push_back(std::make_unique<char[]>(kStackBytes));
  for (size_t i = 0; i < n; ++i) {
    Fiber& f = b.fibers[i];
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = g_stacks[i].get();
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = &b.scheduler;
    makecontext(&f.context, fiber_main, 0);
  }
  size_t alive = n;
  while (alive > 0) {
    bool progressed = false;
    for (size_t i = 0; i < n; ++i) {
      Fiber& f = b.fibers[i];
      if (!runnable(b, f)) continue;
      b.current = static_cast<int>(i);
      threadIdx = f.index;
      swapcontext(&b.scheduler, &f.context);
      progressed = true;
      if (f.done) --alive;
    }
    if (!progressed && alive > 0) fail("deadlock: a barrier that the block's live threads never all reach");
  }
}

}  // namespace

void execute_grid(dim3 grid, dim3 block, size_t shared_bytes, const std::function<void()>& body) {
  const int threads = static_cast<int>(block.x * block.y * block.z);
  gridDim = grid;
  blockDim = block;
  for (unsigned z = 0; z < grid.z; ++z) {
    for (unsigned y = 0; y < grid.y; ++y) {
      for (unsigned x = 0; x < grid.x; ++x) {
        Block b;
        b.body = &body;
        b.shared.assign(shared_bytes, 0xCD);  // garbage, as uninitialized shared memory is
        b.fibers.resize(static_cast<size_t>(threads));
        const int warps = (threads + kWarp - 1) / kWarp;
        b.warps.resize(static_cast<size_t>(warps));
        b.slots.assign(static_cast<size_t>(warps), std::vector<uint64_t>(kWarp, 0));
        for (int t = 0; t < threads; ++t) {
          Fiber& f = b.fibers[static_cast<size_t>(t)];
          f.linear = t;
          f.index = {static_cast<unsigned>(t) % block.x, (static_cast<unsigned>(t) / block.x) % block.y,
                     static_cast<unsigned>(t) / (block.x * block.y)};
          ++b.warps[static_cast<size_t>(t / kWarp)].live;
        }
        b.block.live = threads;
        blockIdx = {x, y, z};
        g_block = &b;
        run_block(b);
        g_block = nullptr;
        note_block();
      }
    }
  }
  threadIdx = {};
  blockIdx = {};
}

void __syncthreads() {
  if (!g_block) fail("__syncthreads outside a kernel");
  arrive(g_block->block, Wait::Block);
}

int lane_id() { return self().linear % kWarp; }

uint64_t shuffle_bits(uint64_t bits, int src_lane) {
  if (!g_block) fail("a shuffle outside a kernel");
  Fiber& f = self();
  const size_t warp = static_cast<size_t>(f.linear / kWarp);
  Barrier& barrier = g_block->warps[warp];
  if (barrier.live != kWarp) fail("a shuffle in a warp with inactive lanes");
  g_block->slots[warp][static_cast<size_t>(f.linear % kWarp)] = bits;
  arrive(barrier, Wait::Warp);
  const uint64_t out = g_block->slots[warp][static_cast<size_t>(src_lane & (kWarp - 1))];
  arrive(barrier, Wait::Warp);
  return out;
}

void* dynamic_shared() {
  if (!g_block) fail("dynamic shared memory outside a kernel");
  return g_block->shared.empty() ? nullptr : g_block->shared.data();
}

}  // namespace cuda_emulator
