// SPDX-License-Identifier: GPL-2.0
//
// libxps: the paper's XPS API (Table 3.2 of the thesis, chapter 3) over
// libbpf and the xps module.
//
//   Control        create_context(file, server_sock)   load, attach, pin
//                  update_context(ctx, file)           new program, same handler
//                  delete_context(ctx)                 detach, unpin
//   Data           put_data / update_data / delete_data on the handler's maps
//   Statistics     get_stats(ctx, key)                 per-key hits
//                  get_allstats(ctx)                   the module's counters
//   Composability  create_compcontext(server_sock, offset, len)
//                  create_subcontext(comp, file, value)
//
// A handler is a struct_ops map of type "xps_handler" in a BPF object
// (modules/xps/include/xps/xps.h). create_context() opens the object,
// writes the predicate into the map's initial value, loads it, attaches
// it (a struct_ops bpf_link) and pins, so that it outlives the process:
//
//   <bpffs>/xps/<name>/link       the bpf_link: the handler is attached while it exists
//   <bpffs>/xps/<name>/<map>      every map of the object but .rodata/.bss/.data
//                                 and the struct_ops map itself
//
// A Context names one such handler; Context::open(name) finds it again
// from another process (xpsctl). Destroying a Context leaves the handler
// attached unless ContextOptions::detach_on_destroy is set. A failed create
// or update leaves everything as it was.
//
// Errors are xcommon::error (errno and a hint: privilege, module not loaded,
// unknown handler) or std::system_error, each naming what was attempted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "xcommon/unique_fd.hpp"
#include "xps/predicate.hpp"
#include "xps/sysfs.hpp"

namespace xps {

inline constexpr std::string_view k_bpffs = "/sys/fs/bpf";
inline constexpr std::string_view k_privilege_hint =
    "needs CAP_BPF and CAP_NET_ADMIN (run as root)";

struct Paths {
  std::string bpffs{k_bpffs};  // the bpf filesystem; mounted at the default place if missing
  std::string sysfs{k_sysfs};  // the module's sysfs root

  [[nodiscard]] std::string root() const;                      // <bpffs>/xps
  [[nodiscard]] std::string dir(std::string_view name) const;  // <bpffs>/xps/<name>
};

// Where a handler's program comes from: a BPF object file, or one of the
// handlers shipped with XPS, built into libxps from their skeletons.
class HandlerObject {
 public:
  // "redis" and "http": bpf/xps_redis.bpf.c and bpf/xps_http.bpf.c.
  [[nodiscard]] static const std::vector<std::string_view>& builtins();
  [[nodiscard]] static HandlerObject file(std::string path);
  // Throws for a name not in builtins().
  [[nodiscard]] static HandlerObject builtin(std::string_view name);
  // A builtin's name, else a path.
  [[nodiscard]] static HandlerObject parse(std::string_view what);

  [[nodiscard]] bool is_builtin() const noexcept { return builtin_; }
  // The file's path or the builtin's name.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  // "FILE" or "the shipped redis handler"
  [[nodiscard]] std::string describe() const;

 private:
  HandlerObject(std::string source, bool builtin) : source_{std::move(source)}, builtin_{builtin} {}
  std::string source_;
  bool builtin_ = false;
};

// The predicate as the object declares it (its struct_ops map's initial
// value): the defaults a PredicateSpec leaves alone.
[[nodiscard]] Predicate object_predicate(const HandlerObject& obj);

// One map of an attached handler, opened from its pin.
class DataMap {
 public:
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] std::uint32_t type() const noexcept { return type_; }
  [[nodiscard]] std::string type_name() const;
  [[nodiscard]] std::size_t key_size() const noexcept { return key_size_; }
  [[nodiscard]] std::size_t value_size() const noexcept { return value_size_; }
  [[nodiscard]] std::uint32_t max_entries() const noexcept { return max_entries_; }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

  // key and value are exactly key_size() and value_size() bytes.
  // put: only a new key (false if it exists); update: only an existing key
  // (false if none); erase: false if there is no such key.
  bool put(std::span<const std::byte> key, std::span<const std::byte> value) const;
  bool update(std::span<const std::byte> key, std::span<const std::byte> value) const;
  bool erase(std::span<const std::byte> key) const;
  // Creates or replaces (BPF_ANY).
  void set(std::span<const std::byte> key, std::span<const std::byte> value) const;
  [[nodiscard]] std::optional<std::string> get(std::span<const std::byte> key) const;
  // Up to `limit` keys, in the map's order.
  [[nodiscard]] std::vector<std::string> keys(std::size_t limit) const;

  // Offset and size of the value's member `name` per the map's BTF
  // (e.g. "hits"), if the value is a struct that has it.
  [[nodiscard]] std::optional<std::pair<std::size_t, std::size_t>> value_member(
      std::string_view name) const;

  static DataMap open_pinned(const std::string& path);

 private:
  DataMap() = default;
  void check_sizes(std::span<const std::byte> key, const std::span<const std::byte>* value) const;
  bool write(std::span<const std::byte> key, std::span<const std::byte> value, std::uint64_t flags,
             std::string_view verb) const;

  std::string name_;
  std::string path_;
  xcommon::unique_fd fd_;
  std::uint32_t type_ = 0;
  std::size_t key_size_ = 0;
  std::size_t value_size_ = 0;
  std::uint32_t max_entries_ = 0;
  std::uint32_t btf_id_ = 0;
  std::uint32_t btf_value_type_id_ = 0;
};

struct ContextOptions {
  Paths paths;
  // Detach (delete_context) when the Context is destroyed, e.g. for a
  // server whose handler should not outlive it.
  bool detach_on_destroy = false;
};

class Context {
 public:
  // Loads `obj`, applies `spec` over the object's own predicate, attaches
  // and pins. Throws, leaving nothing behind, on any failure.
  [[nodiscard]] static Context create(const HandlerObject& obj, const PredicateSpec& spec,
                                      ContextOptions opts = {});
  // The attached handler `name`, by its pins.
  [[nodiscard]] static Context open(std::string_view name, ContextOptions opts = {});

  Context(Context&&) noexcept = default;
  Context& operator=(Context&&) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  [[nodiscard]] const std::string& name() const noexcept { return pred_.name; }
  [[nodiscard]] const Predicate& predicate() const noexcept { return pred_; }
  [[nodiscard]] const Paths& paths() const noexcept { return opts_.paths; }
  [[nodiscard]] std::string pin_dir() const { return opts_.paths.dir(pred_.name); }
  [[nodiscard]] bool attached() const noexcept { return link_.valid(); }

  // Replaces the program (the same name and predicate; the maps the new
  // object shares by name with the pinned ones are reused, data included).
  void update(const HandlerObject& obj);
  // Detaches the handler and removes its pins. The Context is empty after.
  void detach();

  // Names of the pinned maps, sorted.
  [[nodiscard]] std::vector<std::string> maps() const;
  // A pinned map; with an empty name the only one (an error if there are several).
  [[nodiscard]] DataMap map(std::string_view name = {}) const;
  // The first pinned map whose value has a member "hits" (get_stats()).
  [[nodiscard]] std::optional<DataMap> stats_map() const;

 private:
  Context(Predicate pred, ContextOptions opts, xcommon::unique_fd link)
      : pred_{std::move(pred)}, opts_{std::move(opts)}, link_{std::move(link)} {}

  Predicate pred_;
  ContextOptions opts_;
  xcommon::unique_fd link_;
};

// Everything `xpsctl handler list` shows of one handler.
struct HandlerInfo {
  std::string name;
  bool pinned = false;                  // <bpffs>/xps/<name>/link exists
  std::optional<Predicate> predicate;   // read from the link's struct_ops map
  std::optional<HandlerStats> stats;    // the module's counters (sysfs)
  std::vector<std::string> maps;        // pinned maps
  std::uint32_t prog_id = 0;            // the handle() program, 0 if unknown
  std::string prog_name;
};

[[nodiscard]] nlohmann::json to_json(const HandlerInfo& h);

// Every attached (sysfs) or pinned handler, by name.
[[nodiscard]] std::vector<HandlerInfo> list_handlers(const Paths& paths = {});

// ---- the paper's API --------------------------------------------------------

[[nodiscard]] Context create_context(const HandlerObject& obj, int server_sock,
                                     ContextOptions opts = {});
[[nodiscard]] Context create_context(const std::string& file, int server_sock,
                                     ContextOptions opts = {});
void update_context(Context& ctx, const HandlerObject& obj);
void update_context(Context& ctx, const std::string& file);
void delete_context(Context& ctx);

// On the handler's only map, or on `map`.
bool put_data(const Context& ctx, std::span<const std::byte> key, std::span<const std::byte> value,
              std::string_view map = {});
bool update_data(const Context& ctx, std::span<const std::byte> key,
                 std::span<const std::byte> value, std::string_view map = {});
bool delete_data(const Context& ctx, std::span<const std::byte> key, std::string_view map = {});

// Hits of `key`: the "hits" member of its value in the handler's stats map
// (see Context::stats_map()); nullopt if the key is not there.
[[nodiscard]] std::optional<std::uint64_t> get_stats(const Context& ctx,
                                                     std::span<const std::byte> key);
// The module's counters of the handler.
[[nodiscard]] HandlerStats get_allstats(const Context& ctx);

// A composability context: the L4 predicate of a server socket plus where
// the L7 value sits; sub-handlers are attached for values with
// create_subcontext(). It owns its sub-contexts' handles.
class CompContext {
 public:
  CompContext(PredicateSpec l4, std::uint16_t offset, std::uint16_t len, ContextOptions opts)
      : l4_{std::move(l4)}, offset_{offset}, len_{len}, opts_{std::move(opts)} {}
  [[nodiscard]] std::uint16_t offset() const noexcept { return offset_; }
  [[nodiscard]] std::uint16_t len() const noexcept { return len_; }
  [[nodiscard]] const PredicateSpec& l4() const noexcept { return l4_; }
  [[nodiscard]] const ContextOptions& options() const noexcept { return opts_; }
  [[nodiscard]] std::vector<Context>& subcontexts() noexcept { return subs_; }

 private:
  PredicateSpec l4_;
  std::uint16_t offset_, len_;
  ContextOptions opts_;
  std::vector<Context> subs_;
};

[[nodiscard]] CompContext create_compcontext(int server_sock, std::uint16_t offset,
                                             std::uint16_t len, ContextOptions opts = {});
// Attaches the handler of `obj` for payloads whose len() bytes at offset()
// are `value` (exactly len() bytes). `name` overrides the object's handler
// name (names are unique: two sub-handlers from one object need two).
Context& create_subcontext(CompContext& comp, const HandlerObject& obj,
                           std::span<const std::uint8_t> value, std::string name = {});

}  // namespace xps
