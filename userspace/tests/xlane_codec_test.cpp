// SPDX-License-Identifier: GPL-2.0
//
// The X-Lane wire format (modules/xlane/include/xlane/codec.h): round trips,
// the CRC against zlib, detection of every single-bit flip, truncation,
// chunks moved between packets, and a fuzz loop that must never read outside
// the packet (this file is also built with ASan + UBSan).
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "xlane/codec.h"

namespace {

static_assert(sizeof(xlane_wire_hdr) == 40);
static_assert(sizeof(xlane_wire_chunk) == 8);
static_assert(sizeof(xlane_fd_beat) == 16);

using bytes = std::vector<unsigned char>;

struct chunk_in {
  std::uint8_t service;
  std::uint16_t port;
  bytes data;
};

struct packet_in {
  std::uint32_t node = 7, lane = 3;
  std::uint64_t seq = 0x0123456789abcdefull, tx_ns = 1234567890123ull;
  std::vector<chunk_in> chunks;
};

// Encodes `p`; every chunk must fit.
bytes encode(const packet_in& p) {
  bytes buf(XLANE_WIRE_MAX);
  xlane_enc e{};
  EXPECT_EQ(xlane_enc_begin(&e, buf.data(), static_cast<__u32>(buf.size()), p.node, p.lane, p.seq),
            0);
  for (const auto& c : p.chunks)
    EXPECT_EQ(
        xlane_enc_chunk(&e, c.service, c.port, c.data.data(), static_cast<__u32>(c.data.size())), 0)
        << "chunk of " << c.data.size() << " bytes";
  buf.resize(xlane_enc_finish(&e, p.tx_ns));
  return buf;
}

struct decoded {
  int status = 0;  // 0 ok, else the first error
  xlane_pkt pkt{};
  std::vector<chunk_in> chunks;
};

decoded decode(const unsigned char* buf, std::size_t len) {
  decoded out;
  xlane_dec d{};
  out.status = xlane_dec_begin(&d, buf, static_cast<__u32>(len));
  if (out.status) return out;
  out.pkt = d.pkt;
  for (;;) {
    xlane_chunk c{};
    const int r = xlane_dec_next(&d, &c);
    if (r == 0) break;
    if (r < 0) {
      out.status = r;
      break;
    }
    out.chunks.push_back({c.service, c.port, bytes(c.data, c.data + c.len)});
  }
  return out;
}

decoded decode(const bytes& b) { return decode(b.data(), b.size()); }

bytes pattern(std::size_t n, unsigned seed) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(seed * 131 + i * 7 + 1);
  return b;
}

// A packet of three chunks with padding after each of the first two.
packet_in sample_packet() {
  packet_in p;
  p.chunks.push_back({XLANE_SVC_DATA, 9000, pattern(5, 1)});
  p.chunks.push_back({XLANE_SVC_FD, 0, pattern(13, 2)});
  p.chunks.push_back({XLANE_SVC_DATA, 9001, pattern(0, 3)});
  return p;
}

TEST(XlaneCodec, RoundTripManyChunkSizes) {
  // Up to the largest chunk a packet carries: 1472 - 40 - 12 = 1420 bytes.
  constexpr std::uint32_t k_max = XLANE_WIRE_MAX - XLANE_WIRE_HDR - XLANE_WIRE_CHUNK - 4;
  for (std::uint32_t size = 0; size <= k_max; size = size < 64 ? size + 1
                                                     : size + 37 > k_max && size != k_max
                                                         ? k_max
                                                         : size + 37) {
    packet_in p;
    p.seq = size * 1000003ull;
    p.tx_ns = ~0ull - size;
    // As many chunks of this size as fit, like the engine packs messages.
    bytes buf(XLANE_WIRE_MAX);
    xlane_enc e{};
    ASSERT_EQ(xlane_enc_begin(&e, buf.data(), XLANE_WIRE_MAX, p.node, p.lane, p.seq), 0);
    for (unsigned i = 0; xlane_enc_room(&e) >= size && i < XLANE_WIRE_MAX_CHUNKS; ++i) {
      chunk_in c{static_cast<std::uint8_t>(1 + i % 2), static_cast<std::uint16_t>(i * 11),
                 pattern(size, i)};
      ASSERT_EQ(xlane_enc_chunk(&e, c.service, c.port, c.data.data(), size), 0);
      p.chunks.push_back(std::move(c));
    }
    EXPECT_EQ(xlane_enc_chunk(&e, 1, 0, p.chunks.front().data.data(), size), -ENOSPC)
        << "size " << size;
    buf.resize(xlane_enc_finish(&e, p.tx_ns));
    ASSERT_FALSE(p.chunks.empty()) << "size " << size;
    EXPECT_LE(buf.size(), XLANE_WIRE_MAX);

    const auto d = decode(buf);
    ASSERT_EQ(d.status, 0) << "size " << size;
    EXPECT_EQ(d.pkt.node, p.node);
    EXPECT_EQ(d.pkt.lane, p.lane);
    EXPECT_EQ(d.pkt.seq, p.seq);
    EXPECT_EQ(d.pkt.tx_ns, p.tx_ns);
    EXPECT_EQ(d.pkt.nchunks, p.chunks.size());
    ASSERT_EQ(d.chunks.size(), p.chunks.size()) << "size " << size;
    for (std::size_t i = 0; i < p.chunks.size(); ++i) {
      EXPECT_EQ(d.chunks[i].service, p.chunks[i].service);
      EXPECT_EQ(d.chunks[i].port, p.chunks[i].port);
      EXPECT_EQ(d.chunks[i].data, p.chunks[i].data);
    }
  }
}

TEST(XlaneCodec, Limits) {
  bytes buf(XLANE_WIRE_MAX + 100);
  const bytes src = pattern(0x10001, 5);  // chunk data, apart from the packet
  xlane_enc e{};
  EXPECT_EQ(xlane_enc_begin(&e, buf.data(), XLANE_WIRE_HDR - 1, 1, 1, 1), -ENOSPC);
  ASSERT_EQ(xlane_enc_begin(&e, buf.data(), XLANE_WIRE_HDR, 1, 1, 1), 0);
  EXPECT_EQ(xlane_enc_room(&e), 0u);
  EXPECT_EQ(xlane_enc_chunk(&e, 1, 1, src.data(), 0), -ENOSPC);

  // A larger buffer is capped at one MTU's UDP payload.
  ASSERT_EQ(xlane_enc_begin(&e, buf.data(), static_cast<__u32>(buf.size()), 1, 1, 1), 0);
  EXPECT_EQ(xlane_enc_room(&e), XLANE_WIRE_MAX - XLANE_WIRE_HDR - XLANE_WIRE_CHUNK - 4);
  EXPECT_EQ(xlane_enc_chunk(&e, 1, 1, src.data(), 0x10000), -EINVAL);
  const __u32 room = xlane_enc_room(&e);
  EXPECT_EQ(xlane_enc_chunk(&e, 1, 1, src.data(), room + 1), -ENOSPC);
  EXPECT_EQ(xlane_enc_chunk(&e, 1, 1, src.data(), room), 0);
  EXPECT_EQ(xlane_enc_finish(&e, 5), XLANE_WIRE_MAX);

  // At most XLANE_WIRE_MAX_CHUNKS chunks.
  ASSERT_EQ(xlane_enc_begin(&e, buf.data(), XLANE_WIRE_MAX, 1, 1, 1), 0);
  for (unsigned i = 0; i < XLANE_WIRE_MAX_CHUNKS; ++i)
    ASSERT_EQ(xlane_enc_chunk(&e, 1, 1, nullptr, 0), 0);
  EXPECT_EQ(xlane_enc_room(&e), 0u);
  EXPECT_EQ(xlane_enc_chunk(&e, 1, 1, nullptr, 0), -ENOSPC);
  const __u32 len = xlane_enc_finish(&e, 5);
  EXPECT_EQ(decode(buf.data(), len).chunks.size(), XLANE_WIRE_MAX_CHUNKS);

  EXPECT_EQ(xlane_chunk_wire_len(0), 12u);
  EXPECT_EQ(xlane_chunk_wire_len(1), 16u);
  EXPECT_EQ(xlane_chunk_wire_len(4), 16u);
  EXPECT_EQ(xlane_chunk_wire_len(5), 20u);
}

TEST(XlaneCodec, CrcEqualsZlib) {
  std::mt19937 rng(42);
  for (int i = 0; i < 200; ++i) {
    bytes b(rng() % 2000);
    for (auto& c : b) c = static_cast<unsigned char>(rng());
    const __u32 seed = i == 0 ? 0 : static_cast<__u32>(rng());
    EXPECT_EQ(xl_crc32(b.data(), b.size(), 0), crc32(0, b.data(), static_cast<uInt>(b.size())));
    EXPECT_EQ(xl_crc32(b.data(), b.size(), seed),
              crc32(seed, b.data(), static_cast<uInt>(b.size())));
  }
  const char* check = "123456789";
  EXPECT_EQ(xl_crc32(check, 9, 0), 0xcbf43926u) << "the CRC-32 check value";

  // On the wire: the header check over the header with crc = 0, and each
  // chunk's check over its header, data and padding, seeded with seq and index.
  const packet_in p = sample_packet();
  const bytes w = encode(p);
  bytes hdr(w.begin(), w.begin() + XLANE_WIRE_HDR);
  __be32 wire_crc;
  std::memcpy(&wire_crc, hdr.data() + offsetof(xlane_wire_hdr, crc), 4);
  std::memset(hdr.data() + offsetof(xlane_wire_hdr, crc), 0, 4);
  EXPECT_EQ(xl_be32toh(wire_crc), crc32(0, hdr.data(), XLANE_WIRE_HDR));

  std::size_t off = XLANE_WIRE_HDR;
  for (std::uint32_t i = 0; i < p.chunks.size(); ++i) {
    const auto n = static_cast<std::uint32_t>(p.chunks[i].data.size());
    const uLong want =
        crc32(xlane_chunk_seed(p.seq, i), w.data() + off, XLANE_WIRE_CHUNK + ((n + 3) & ~3u));
    __be32 got;
    std::memcpy(&got, w.data() + off + XLANE_WIRE_CHUNK + ((n + 3) & ~3u), 4);
    EXPECT_EQ(xl_be32toh(got), want) << "chunk " << i;
    off += xlane_chunk_wire_len(n);
  }
  EXPECT_EQ(off, w.size());
}

TEST(XlaneCodec, EverySingleBitFlipIsDetected) {
  const bytes good = encode(sample_packet());
  ASSERT_EQ(decode(good).status, 0);
  std::size_t undetected = 0;
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    bytes b = good;
    b[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    const auto d = decode(b);
    if (d.status != -EBADMSG) {
      if (++undetected < 10)
        ADD_FAILURE() << "flip of bit " << bit % 8 << " in byte " << bit / 8
                      << " not detected (status " << d.status << ")";
    }
  }
  EXPECT_EQ(undetected, 0u);
}

TEST(XlaneCodec, EveryTruncationIsDetected) {
  const bytes good = encode(sample_packet());
  for (std::size_t len = 0; len < good.size(); ++len) {
    // Exactly `len` bytes on the heap, so a read past them is caught by ASan.
    auto b = std::make_unique<unsigned char[]>(len == 0 ? 1 : len);
    std::memcpy(b.get(), good.data(), len);
    EXPECT_EQ(decode(b.get(), len).status, -EBADMSG) << "length " << len;
  }
  // Bytes after the packet (e.g. a receiver's buffer) are not part of it.
  bytes longer = good;
  longer.resize(good.size() + 9, 0xaa);
  const auto d = decode(longer);
  EXPECT_EQ(d.status, 0);
  EXPECT_EQ(d.chunks.size(), 3u);
}

// Rewrites the header field at `off` and recomputes the header check, as a
// sender speaking another format would.
void set_header_byte(bytes& b, std::size_t off, unsigned char v) {
  b[off] = v;
  std::memset(b.data() + offsetof(xlane_wire_hdr, crc), 0, 4);
  const __be32 crc = xl_htobe32(xl_crc32(b.data(), XLANE_WIRE_HDR, 0));
  std::memcpy(b.data() + offsetof(xlane_wire_hdr, crc), &crc, 4);
}

TEST(XlaneCodec, WrongMagicOrVersion) {
  const bytes good = encode(sample_packet());
  bytes b = good;
  set_header_byte(b, 0, 0x00);  // magic "XL" -> "\0L"
  EXPECT_EQ(decode(b).status, -EBADMSG);
  b = good;
  set_header_byte(b, offsetof(xlane_wire_hdr, version), 2);
  EXPECT_EQ(decode(b).status, -EBADMSG);
  b = good;
  set_header_byte(b, offsetof(xlane_wire_hdr, nchunks), XLANE_WIRE_MAX_CHUNKS + 1);
  EXPECT_EQ(decode(b).status, -EBADMSG);
  // A recomputed header with a length past the buffer.
  b = good;
  set_header_byte(b, offsetof(xlane_wire_hdr, len), 0xff);
  EXPECT_EQ(decode(b).status, -EBADMSG);
  // The check itself: unchanged bytes, recomputed check, still valid.
  b = good;
  set_header_byte(b, offsetof(xlane_wire_hdr, rsvd), 0);
  EXPECT_EQ(decode(b).status, 0);
}

TEST(XlaneCodec, ChunkMovedBetweenPacketsFails) {
  packet_in p1 = sample_packet();
  packet_in p2 = sample_packet();
  p2.seq = p1.seq + 1;
  p2.chunks[0].data = pattern(5, 9);  // same size, other content
  const bytes a = encode(p1);
  const bytes b = encode(p2);
  ASSERT_EQ(a.size(), b.size());

  // Chunk 0 of packet 2 in place of chunk 0 of packet 1 (same position).
  bytes mixed = a;
  const std::size_t c0 = XLANE_WIRE_HDR, c0_len = xlane_chunk_wire_len(5);
  std::memcpy(mixed.data() + c0, b.data() + c0, c0_len);
  auto d = decode(mixed);
  EXPECT_EQ(d.status, -EBADMSG);
  EXPECT_TRUE(d.chunks.empty());

  // Two chunks of one packet swapped (same size, other index).
  packet_in q = sample_packet();
  q.chunks[1].data = pattern(5, 4);
  const bytes s = encode(q);
  bytes swapped = s;
  std::memcpy(swapped.data() + c0, s.data() + c0 + c0_len, c0_len);
  std::memcpy(swapped.data() + c0 + c0_len, s.data() + c0, c0_len);
  d = decode(swapped);
  EXPECT_EQ(d.status, -EBADMSG);

  // A whole packet replayed with another sequence number in its header.
  bytes replay = a;
  const __be64 seq = xl_htobe64(p1.seq + 7);
  std::memcpy(replay.data() + offsetof(xlane_wire_hdr, seq), &seq, 8);
  set_header_byte(replay, 0, replay[0]);  // recompute the header check
  d = decode(replay);
  EXPECT_EQ(d.status, -EBADMSG) << "chunk checks are bound to the sequence number";
}

// Every chunk the decoder returns lies inside [buf, buf + len).
void expect_inside(const unsigned char* buf, std::size_t len, std::uint64_t iteration) {
  xlane_dec d{};
  if (xlane_dec_begin(&d, buf, static_cast<__u32>(len)) != 0) return;
  ASSERT_LE(d.end, len) << "iteration " << iteration;
  for (int guard = 0; guard < 1000; ++guard) {
    xlane_chunk c{};
    const int r = xlane_dec_next(&d, &c);
    if (r <= 0) return;
    ASSERT_GE(c.data, buf) << "iteration " << iteration;
    ASSERT_LE(c.data + c.len, buf + len) << "iteration " << iteration;
  }
  FAIL() << "decoder did not terminate, iteration " << iteration;
}

TEST(XlaneCodec, FuzzNeverCrashesOrReadsOutside) {
  std::mt19937_64 rng(0x58ab1e);
  const bytes good = encode(sample_packet());
  // A packet full of small chunks, so mutations hit chunk headers often.
  packet_in many;
  for (int i = 0; i < 40; ++i)
    many.chunks.push_back({XLANE_SVC_DATA, static_cast<std::uint16_t>(i),
                           pattern(static_cast<std::size_t>(i % 9), static_cast<unsigned>(i))});
  const bytes dense = encode(many);

  std::uint64_t accepted = 0;
  for (std::uint64_t it = 0; it < 100000; ++it) {
    bytes b;
    switch (it % 4) {
      case 0: {  // random bytes, sometimes with a valid-looking header
        b.resize(rng() % (XLANE_WIRE_MAX + 64));
        for (auto& c : b) c = static_cast<unsigned char>(rng());
        if (b.size() >= XLANE_WIRE_HDR && rng() % 2) {
          b[0] = 0x58;
          b[1] = 0x4c;
          b[2] = XLANE_WIRE_VERSION;
          b[3] = static_cast<unsigned char>(rng() % (XLANE_WIRE_MAX_CHUNKS + 2));
          const auto len = static_cast<std::uint16_t>(rng() % (b.size() - XLANE_WIRE_HDR + 8));
          const __be16 blen = xl_htobe16(len);
          std::memcpy(b.data() + offsetof(xlane_wire_hdr, len), &blen, 2);
          set_header_byte(b, 0, b[0]);
        }
        break;
      }
      case 1:  // bit flips and byte writes into a valid packet
      case 2: {
        b = it % 2 ? good : dense;
        const int edits = 1 + static_cast<int>(rng() % 6);
        for (int e = 0; e < edits; ++e) {
          const std::size_t at = rng() % b.size();
          if (rng() % 2)
            b[at] ^= static_cast<unsigned char>(1u << (rng() % 8));
          else
            b[at] = static_cast<unsigned char>(rng());
        }
        if (rng() % 2) set_header_byte(b, 0, b[0]);  // get past the header check
        break;
      }
      default: {  // chunk lengths rewritten, header check fixed, maybe truncated
        b = dense;
        for (std::size_t off = XLANE_WIRE_HDR; off + 2 <= b.size(); off += 4 + 4 * (rng() % 8)) {
          if (rng() % 3 == 0) {
            const __be16 l = xl_htobe16(static_cast<std::uint16_t>(rng()));
            std::memcpy(b.data() + off, &l, 2);
          }
        }
        if (rng() % 2) b.resize(rng() % (b.size() + 1));
        if (b.size() >= XLANE_WIRE_HDR) set_header_byte(b, 0, b[0]);
        break;
      }
    }
    // Exactly b.size() bytes on the heap: ASan sees any read past them.
    auto exact = std::make_unique<unsigned char[]>(b.empty() ? 1 : b.size());
    if (!b.empty()) std::memcpy(exact.get(), b.data(), b.size());
    expect_inside(exact.get(), b.size(), it);
    if (decode(exact.get(), b.size()).status == 0) ++accepted;
    if (HasFatalFailure()) return;
  }
  // Only mutations that left the packet intact (e.g. a byte rewritten to
  // itself) may decode cleanly; they are rare.
  EXPECT_LT(accepted, 5000u);
}

}  // namespace
