// SPDX-License-Identifier: GPL-2.0
//
// libxps on real BPF objects of build/bpf, without the module: what it
// reads from a handler object (its struct_ops map's initial value) and how
// it refuses what is not one. Loading and attaching need the module: the
// kselftests in the VM do that.
#include <string>

#include <gtest/gtest.h>

#include "xcommon/error.hpp"
#include "xcommon/libbpf_tool.hpp"
#include "xps/context.hpp"

namespace {

const std::string k_bpf = XSEL_BPF_OUT;

TEST(XpsObject, ReadsTheObjectsPredicate) {
  xcommon::libbpf::capture_log(false);
  const auto p = xps::object_predicate(xps::HandlerObject::file(k_bpf + "/xps_ping.bpf.o"));
  EXPECT_EQ(p.name, "ping");
  EXPECT_EQ(p.lport, 7777);
  EXPECT_TRUE(p.laddr.any());
  EXPECT_EQ(p.l7.len, 0);
}

TEST(XpsObject, ShippedHandlersComeFromTheSkeletons) {
  const auto obj = xps::HandlerObject::parse("redis");
  EXPECT_TRUE(obj.is_builtin());
  EXPECT_EQ(obj.describe(), "the shipped redis handler");
  EXPECT_EQ(xps::object_predicate(obj).name, "redis");
  EXPECT_FALSE(xps::HandlerObject::parse("./redis").is_builtin());
  EXPECT_THROW((void)xps::HandlerObject::builtin("memcached"), xcommon::error);
}

TEST(XpsObject, RefusesWhatIsNoHandler) {
  xcommon::libbpf::capture_log(false);
  try {
    (void)xps::object_predicate(xps::HandlerObject::file(k_bpf + "/xlane_rx.bpf.o"));
    ADD_FAILURE() << "an XDP object taken for a handler";
  } catch (const xcommon::error& e) {
    EXPECT_NE(std::string(e.what()).find("has 0 struct_ops maps"), std::string::npos) << e.what();
    EXPECT_NE(e.hint().find("struct xps_handler"), std::string::npos);
  }
  try {
    (void)xps::object_predicate(xps::HandlerObject::file("/nonexistent/x.bpf.o"));
    ADD_FAILURE() << "no error for a missing file";
  } catch (const xcommon::error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_NE(e.hint().find("redis, http"), std::string::npos) << e.hint();
  }
}

}  // namespace
