// A small command-line parser shared by the example programs: long options ("--name value" or
// "--name=value"), an optional one-letter alias ("-c FILE"), flags without a value, and
// positional arguments. Unknown options are usage errors, reported as one line.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dcs_examples {

/// A wrong command line or configuration: the programs print it as one line and exit 1.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        ///< without the leading "--"
  std::string value_name;  ///< empty: a flag that takes no value
  std::string help;
  char alias = 0;  ///< one-letter form ("-c"), 0 when none
};

class Args {
 public:
  /// Parses argv[first..argc). Throws UsageError on an unknown option or a missing value.
  static Args parse(int argc, const char* const* argv, int first, const std::vector<OptionSpec>& specs);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  /// The option's value; nullopt when it was not given.
  std::optional<std::string> get(const std::string& name) const;
  /// The option as an integer; throws UsageError when it is not one.
  std::optional<long long> get_int(const std::string& name) const;
  /// Every value of an option that may be repeated (e.g. --set a=1 --set b=2), in order.
  std::vector<std::string> get_all(const std::string& name) const;
  const std::vector<std::string>& positional() const noexcept { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

/// The option list of a --help text, one option per line, aligned.
std::string format_options(const std::vector<OptionSpec>& specs);

}  // namespace dcs_examples
