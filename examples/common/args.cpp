#include "common/args.hpp"

#include <algorithm>
#include <charconv>

namespace dcs_examples {

Args Args::parse(int argc, const char* const* argv, int first, const std::vector<OptionSpec>& specs) {
  auto find = [&](const std::string& name) -> const OptionSpec* {
    for (const auto& spec : specs) {
      if (spec.name == name) return &spec;
    }
    return nullptr;
  };
  auto find_alias = [&](char alias) -> const OptionSpec* {
    for (const auto& spec : specs) {
      if (spec.alias != 0 && spec.alias == alias) return &spec;
    }
    return nullptr;
  };

  Args args;
  bool options_ended = false;
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (options_ended || arg.size() < 2 || arg[0] != '-') {
      args.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_ended = true;
      continue;
    }
    const OptionSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0) {
      const auto eq = arg.find('=');
      spec = find(arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
      if (eq != std::string::npos) inline_value = arg.substr(eq + 1);
    } else if (arg.size() == 2) {
      spec = find_alias(arg[1]);
    }
    if (spec == nullptr) throw UsageError("unknown option '" + arg + "' (see --help)");
    if (spec->value_name.empty()) {
      if (inline_value) throw UsageError("option --" + spec->name + " takes no value");
      args.values_.emplace(spec->name, "");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) throw UsageError("option --" + spec->name + " needs a value (" + spec->value_name + ")");
      inline_value = argv[++i];
    }
    args.values_.emplace(spec->name, *inline_value);
  }
  return args;
}

std::optional<std::string> Args::get(const std::string& name) const {
  // The last occurrence wins, as in most command-line tools.
  const auto range = values_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;
}

std::optional<long long> Args::get_int(const std::string& name) const {
  const auto text = get(name);
  if (!text) return std::nullopt;
  long long value = 0;
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || text->empty()) {
    throw UsageError("option --" + name + " needs an integer, got '" + *text + "'");
  }
  return value;
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  std::vector<std::string> out;
  const auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

std::string format_options(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> heads;
  std::size_t width = 0;
  for (const auto& spec : specs) {
    std::string head = spec.alias != 0 ? std::string("-") + spec.alias + ", " : "    ";
    head += "--" + spec.name;
    if (!spec.value_name.empty()) head += " " + spec.value_name;
    width = std::max(width, head.size());
    heads.push_back(std::move(head));
  }
  std::string out;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    out += "  " + heads[i] + std::string(width - heads[i].size() + 2, ' ') + specs[i].help + "\n";
  }
  return out;
}

}  // namespace dcs_examples
