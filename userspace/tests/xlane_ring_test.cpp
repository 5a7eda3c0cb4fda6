// SPDX-License-Identifier: GPL-2.0
//
// The X-Lane bridges (modules/xlane/include/xlane/ring.h) on anonymous
// memory, and libxlane's Producer/Consumer over them: geometry, order,
// wraparound, a full ring, a hostile other side, and two threads.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "xcommon/error.hpp"
#include "xlane/bridge.hpp"
#include "xlane/mapping.hpp"
#include "xlane/ring.h"

namespace {

static_assert(sizeof(xlane_ring) == XLANE_RING_HDR);
static_assert(offsetof(xlane_ring, head) == 64, "head on its own cache line");
static_assert(offsetof(xlane_ring, tail) == 128, "tail on its own cache line");
static_assert(sizeof(xlane_slot) == 8);

// A ring in anonymous memory with a producer and a consumer attached.
struct test_ring {
  std::uint32_t slots, slot_size;
  xlane::mapping mem;
  xlane_ring* r = nullptr;
  xlane_prod prod{};
  xlane_cons cons{};

  test_ring(std::uint32_t n, std::uint32_t max_len)
      : slots{n},
        slot_size{xlane_ring_slot_size(max_len)},
        mem{xlane::mapping::anonymous(xlane_ring_bytes(n, xlane_ring_slot_size(max_len)))} {
    r = reinterpret_cast<xlane_ring*>(mem.data());
    EXPECT_EQ(xlane_ring_init(r, slots, slot_size), 0);
    xlane_prod_init(&prod, r, slots, slot_size);
    xlane_cons_init(&cons, r, slots, slot_size);
  }

  int push(const std::string& s, std::uint32_t type = 1) {
    return xlane_prod_push(&prod, s.data(), static_cast<__u32>(s.size()), type);
  }
  // The oldest message as a string, released; "<empty>" when there is none.
  std::string pop(std::uint32_t* type = nullptr) {
    __u32 len = 0, t = 0;
    const void* p = xlane_cons_peek(&cons, &len, &t);
    if (!p) return "<empty>";
    std::string s(static_cast<const char*>(p), len);
    xlane_cons_release(&cons);
    if (type) *type = t;
    return s;
  }
  xlane_slot* slot(std::uint64_t idx) { return xlane_ring_slot(r, slots, slot_size, idx); }
};

TEST(XlaneRing, Geometry) {
  EXPECT_EQ(xlane_ring_slot_size(0), 8u);
  EXPECT_EQ(xlane_ring_slot_size(1), 16u);
  EXPECT_EQ(xlane_ring_slot_size(8), 16u);
  EXPECT_EQ(xlane_ring_slot_size(9), 24u);
  EXPECT_EQ(xlane_ring_max_len(xlane_ring_slot_size(100)), 104u);
  EXPECT_EQ(xlane_ring_bytes(4, 16), XLANE_RING_HDR + 64u);

  auto mem = xlane::mapping::anonymous(XLANE_RING_HDR);
  auto* r = reinterpret_cast<xlane_ring*>(mem.data());
  EXPECT_EQ(xlane_ring_init(r, 0, 16), -EINVAL);
  EXPECT_EQ(xlane_ring_init(r, 3, 16), -EINVAL);
  EXPECT_EQ(xlane_ring_init(r, 96, 16), -EINVAL);
  EXPECT_EQ(xlane_ring_init(r, XLANE_RING_MAX_SLOTS * 2, 16), -EINVAL);
  EXPECT_EQ(xlane_ring_init(r, 4, 4), -EINVAL);   // smaller than a slot header
  EXPECT_EQ(xlane_ring_init(r, 4, 12), -EINVAL);  // not a multiple of 8
  EXPECT_EQ(r->magic, 0u) << "a refused geometry must not initialise the header";

  r->head = 99;
  EXPECT_EQ(xlane_ring_init(r, 1, 8), 0);
  EXPECT_EQ(r->magic, XLANE_RING_MAGIC);
  EXPECT_EQ(r->slots, 1u);
  EXPECT_EQ(r->slot_size, 8u);
  EXPECT_EQ(r->head, 0u) << "init clears the indexes";
  EXPECT_EQ(xlane_ring_init(r, XLANE_RING_MAX_SLOTS, 8), 0);
}

TEST(XlaneRing, PushPeekRelease) {
  test_ring t(8, 32);
  EXPECT_EQ(t.pop(), "<empty>");
  EXPECT_EQ(t.push("one", 1), 0);
  EXPECT_EQ(t.push("", 2), 0);  // empty messages are messages
  EXPECT_EQ(t.push("three", 3), 0);
  EXPECT_EQ(xlane_prod_used(&t.prod), 3u);
  EXPECT_EQ(t.r->head, 3u);

  // peek twice without release: the same message.
  __u32 len = 0, type = 0;
  const void* p = xlane_cons_peek(&t.cons, &len, &type);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(std::string(static_cast<const char*>(p), len), "one");
  EXPECT_EQ(xlane_cons_peek(&t.cons, &len, &type), p);
  xlane_cons_release(&t.cons);
  EXPECT_EQ(t.r->tail, 1u);

  std::uint32_t ty = 0;
  EXPECT_EQ(t.pop(&ty), "");
  EXPECT_EQ(ty, 2u);
  EXPECT_EQ(t.pop(&ty), "three");
  EXPECT_EQ(ty, 3u);
  EXPECT_EQ(t.pop(), "<empty>");
  EXPECT_EQ(xlane_prod_used(&t.prod), 0u);
  EXPECT_EQ(t.cons.bad, 0u);
  EXPECT_EQ(t.prod.dropped, 0u);
}

TEST(XlaneRing, ReserveCommitInPlace) {
  test_ring t(2, 16);
  void* dst = xlane_prod_reserve(&t.prod, 5);
  ASSERT_NE(dst, nullptr);
  std::memcpy(dst, "hello", 5);
  EXPECT_EQ(t.pop(), "<empty>") << "nothing is visible before commit";
  xlane_prod_commit(&t.prod, 5, 7);
  std::uint32_t ty = 0;
  EXPECT_EQ(t.pop(&ty), "hello");
  EXPECT_EQ(ty, 7u);
}

TEST(XlaneRing, Wraparound) {
  test_ring t(4, 24);
  std::uint64_t sent = 0, got = 0;
  // Varying occupancy, so every slot index is written at every fill level.
  for (int round = 0; round < 500; ++round) {
    const int burst = 1 + round % 4;
    while (sent - got + burst > 4) ASSERT_EQ(t.pop(), "m" + std::to_string(got++));
    for (int i = 0; i < burst; ++i)
      ASSERT_EQ(t.push("m" + std::to_string(sent++)), 0) << "round " << round;
    const int take = round % 3 == 0 ? burst : 1 + (burst - 1) / 2;
    for (int i = 0; i < take; ++i) ASSERT_EQ(t.pop(), "m" + std::to_string(got++));
  }
  while (got < sent) ASSERT_EQ(t.pop(), "m" + std::to_string(got++));
  EXPECT_EQ(t.pop(), "<empty>");
  EXPECT_EQ(t.r->head, sent);
  EXPECT_EQ(t.r->tail, sent);
  EXPECT_GT(sent, 4u * 100);
  EXPECT_EQ(t.prod.dropped, 0u);
}

TEST(XlaneRing, FullRingDropsAndCounts) {
  test_ring t(8, 16);
  for (int i = 0; i < 8; ++i) ASSERT_EQ(t.push(std::to_string(i)), 0);
  EXPECT_EQ(t.push("x"), -ENOSPC);
  EXPECT_EQ(xlane_prod_reserve(&t.prod, 1), nullptr);
  EXPECT_EQ(t.prod.dropped, 2u);
  EXPECT_EQ(t.r->dropped, 2u) << "drops are published in the shared header";
  EXPECT_EQ(t.push(std::string(17, 'l')), -EMSGSIZE);
  EXPECT_EQ(t.prod.dropped, 3u);
  EXPECT_EQ(t.push(std::string(16, 'f')), -ENOSPC) << "fits a slot, but the ring is full";
  EXPECT_EQ(t.r->dropped, 4u);
  EXPECT_EQ(xlane_prod_used(&t.prod), 8u);

  // Nothing already queued was harmed, and one free slot takes one message.
  EXPECT_EQ(t.pop(), "0");
  EXPECT_EQ(t.push(std::string(16, 'f')), 0);
  EXPECT_EQ(t.push("y"), -ENOSPC);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(t.pop(), std::to_string(i));
  EXPECT_EQ(t.pop(), std::string(16, 'f'));
  EXPECT_EQ(t.pop(), "<empty>");
}

TEST(XlaneRing, HostileTailAheadOfHead) {
  test_ring t(8, 16);
  ASSERT_EQ(t.push("a"), 0);
  // The consumer claims to have consumed more than was ever produced.
  t.r->tail = 5;
  EXPECT_EQ(xlane_prod_used(&t.prod), 0u);
  EXPECT_EQ(t.push("b"), -ENOSPC) << "a nonsense tail reads as full";
  EXPECT_EQ(t.r->dropped, 1u);
  EXPECT_EQ(t.prod.head, 1u) << "the producer's private index did not move";
  // A huge tail (wrapped negative) too.
  t.r->tail = ~0ull;
  EXPECT_EQ(t.push("c"), -ENOSPC);
  // Once the consumer behaves, the producer goes on where it was.
  t.r->tail = 1;
  EXPECT_EQ(t.push("d"), 0);
  EXPECT_EQ(t.r->head, 2u);
}

TEST(XlaneRing, HostileHeadFarAhead) {
  test_ring t(8, 16);
  ASSERT_EQ(t.push("a"), 0);
  t.r->head = 8 + 2;  // more than a ring ahead of tail 0
  __u32 len = 0, type = 0;
  EXPECT_EQ(xlane_cons_peek(&t.cons, &len, &type), nullptr);
  EXPECT_EQ(t.cons.bad, 1u);
  EXPECT_EQ(t.r->bad, 1u);
  EXPECT_EQ(t.cons.tail, 0u) << "a bad head consumes nothing";

  t.r->head = ~0ull - 3;
  EXPECT_EQ(xlane_cons_peek(&t.cons, &len, &type), nullptr);
  EXPECT_EQ(t.cons.bad, 2u);

  // Exactly a full ring ahead is legal.
  t.r->head = 8;
  EXPECT_NE(xlane_cons_peek(&t.cons, &len, &type), nullptr);
  EXPECT_EQ(t.cons.bad, 2u);
}

TEST(XlaneRing, HostileHeadRunsBackwards) {
  test_ring t(8, 16);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(t.push("m"), 0);
  EXPECT_EQ(t.pop(), "m");
  EXPECT_EQ(t.pop(), "m");
  t.r->head = 1;  // behind the consumer's tail 2
  __u32 len = 0, type = 0;
  EXPECT_EQ(xlane_cons_peek(&t.cons, &len, &type), nullptr);
  EXPECT_EQ(t.cons.bad, 1u);
  EXPECT_EQ(t.cons.tail, 2u);
}

TEST(XlaneRing, BadSlotLengthIsConsumedAndCounted) {
  test_ring t(8, 16);
  ASSERT_EQ(t.push("first"), 0);
  ASSERT_EQ(t.push("second"), 0);
  ASSERT_EQ(t.push("third"), 0);
  // The producer lies about the first two lengths after publishing them.
  t.slot(0)->len = 17;
  t.slot(1)->len = 0xffffffffu;
  EXPECT_EQ(t.pop(), "third");
  EXPECT_EQ(t.cons.bad, 2u);
  EXPECT_EQ(t.r->bad, 2u);
  EXPECT_EQ(t.r->tail, 3u) << "bad slots are handed back, the ring goes on";
  EXPECT_EQ(t.pop(), "<empty>");

  // The largest legal length is fine.
  ASSERT_EQ(t.push(std::string(16, 'z')), 0);
  EXPECT_EQ(t.pop(), std::string(16, 'z'));
  EXPECT_EQ(t.cons.bad, 2u);
}

TEST(XlaneRing, ReattachStartsAtTheSharedIndexes) {
  test_ring t(8, 16);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(t.push(std::to_string(i)), 0);
  EXPECT_EQ(t.pop(), "0");
  EXPECT_EQ(t.pop(), "1");
  xlane_cons again{};
  xlane_cons_init(&again, t.r, t.slots, t.slot_size);
  EXPECT_EQ(again.tail, 2u);
  xlane_prod p2{};
  xlane_prod_init(&p2, t.r, t.slots, t.slot_size);
  EXPECT_EQ(p2.head, 5u);
}

// Message `seq` of the stress test: seq, then a pattern of a length that varies.
std::vector<unsigned char> stress_message(std::uint64_t seq) {
  std::vector<unsigned char> m(8 + seq % 57);
  std::memcpy(m.data(), &seq, 8);
  for (std::size_t i = 8; i < m.size(); ++i) m[i] = static_cast<unsigned char>(seq * 31 + i);
  return m;
}

TEST(XlaneRing, TwoThreadStressKeepsOrderAndContent) {
  constexpr std::uint64_t k_count = 1000000;
  test_ring t(256, 64);
  std::uint64_t full = 0;

  std::thread producer([&] {
    for (std::uint64_t seq = 0; seq < k_count; ++seq) {
      const auto m = stress_message(seq);
      while (xlane_prod_push(&t.prod, m.data(), static_cast<__u32>(m.size()), 1) == -ENOSPC) {
        ++full;
        std::this_thread::yield();
      }
    }
  });

  std::uint64_t expect = 0, mismatches = 0;
  while (expect < k_count) {
    __u32 len = 0, type = 0;
    const void* p = xlane_cons_peek(&t.cons, &len, &type);
    if (!p) {
      std::this_thread::yield();
      continue;
    }
    const auto want = stress_message(expect);
    if (len != want.size() || type != 1 || std::memcmp(p, want.data(), len) != 0) {
      if (++mismatches < 5) ADD_FAILURE() << "message " << expect << " differs";
    }
    xlane_cons_release(&t.cons);
    ++expect;
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(t.cons.bad, 0u);
  EXPECT_EQ(t.r->head, k_count);
  EXPECT_EQ(t.r->tail, k_count);
  EXPECT_EQ(t.prod.dropped, full) << "every refused push was counted once";
}

// --- libxlane's Producer / Consumer over the same rings ----------------------

TEST(XlaneBridge, CheckRingRefusesWhatIsNotARing) {
  auto mem = xlane::mapping::anonymous(4096);
  std::span<std::byte> area = mem.bytes();
  auto* r = reinterpret_cast<xlane_ring*>(mem.data() + 64);

  auto code_of = [&](std::uint64_t off) {
    try {
      (void)xlane::check_ring(area, off, "test ring");
    } catch (const xcommon::error& e) {
      EXPECT_NE(std::string(e.what()).find("test ring"), std::string::npos) << e.what();
      return e.code();
    }
    return 0;
  };
  EXPECT_EQ(code_of(64), EPROTO) << "no magic";
  ASSERT_EQ(xlane_ring_init(r, 8, 64), 0);
  EXPECT_EQ(code_of(64), 0);
  EXPECT_EQ(code_of(68), EPROTO) << "misaligned";
  EXPECT_EQ(code_of(4096 - 96), EPROTO) << "no room for the header";
  EXPECT_EQ(code_of(1ull << 40), EPROTO) << "far outside";
  r->slots = 64;  // 64 * 64 bytes run past the 4 KiB area
  EXPECT_EQ(code_of(64), EPROTO);
  r->slots = 6;
  EXPECT_EQ(code_of(64), EPROTO);
  r->slots = 8;
  r->slot_size = 60;
  EXPECT_EQ(code_of(64), EPROTO);
}

TEST(XlaneBridge, ProducerConsumerRoundTrip) {
  auto mem = xlane::mapping::anonymous(8192);
  ASSERT_EQ(
      xlane_ring_init(reinterpret_cast<xlane_ring*>(mem.data() + 128), 4, xlane_ring_slot_size(40)),
      0);
  auto prod = xlane::Producer::attach(mem.bytes(), 128, "lane 1 R-X ring");
  auto cons = xlane::Consumer::attach(mem.bytes(), 128, "lane 1 R-X ring");
  EXPECT_EQ(prod.max_len(), 40u);

  const std::string hello = "hello";
  EXPECT_TRUE(prod.push(std::as_bytes(std::span{hello}), 1));
  auto v = cons.peek();
  ASSERT_TRUE(v);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(v->payload.data()), v->payload.size()),
            "hello");
  EXPECT_EQ(v->type, 1u);
  EXPECT_EQ(cons.stats().used, 1u);
  cons.release();
  EXPECT_FALSE(cons.peek());

  for (int i = 0; i < 4; ++i) EXPECT_TRUE(prod.push(std::as_bytes(std::span{hello}), 1));
  EXPECT_FALSE(prod.push(std::as_bytes(std::span{hello}), 1)) << "full";
  EXPECT_EQ(prod.stats().dropped, 1u);
  EXPECT_EQ(prod.stats().used, 4u);
  EXPECT_EQ(cons.stats().dropped, 1u) << "the consumer sees the shared drop count";

  const std::string big(41, 'b');
  try {
    (void)prod.push(std::as_bytes(std::span{big}), 1);
    ADD_FAILURE() << "a message larger than a slot must throw";
  } catch (const xcommon::error& e) {
    EXPECT_EQ(e.code(), EMSGSIZE);
    EXPECT_NE(std::string(e.what()).find("lane 1 R-X ring"), std::string::npos) << e.what();
  }

  // Moving leaves the source detached.
  xlane::Consumer moved = std::move(cons);
  EXPECT_TRUE(moved.attached());
  EXPECT_FALSE(cons.attached());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_FALSE(cons.peek());
}

}  // namespace
