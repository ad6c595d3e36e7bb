// A minimal gridhub plugin: a classifier that maps keywords to categories.
// docs/plugins.md walks through it; the tests build it as a module and run a pipeline with it.
//
//   [pipeline]
//   classifier = "classifier_keyword"
//   plugin_dir = "path/with/classifier_keyword.so"
//
//   [plugins.classifier_keyword]
//   rules = ["停水=1801", "停电=1802", "垃圾=0102"]   # keyword=category, first match wins

#include <cstdio>
#include <exception>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gridhub/plugin/api.hpp"

namespace {

namespace gp = gridhub::plugin;

class KeywordClassifier final : public gp::Classifier {
 public:
  explicit KeywordClassifier(std::vector<std::pair<std::string, std::string>> rules) : rules_(std::move(rules)) {}

  gp::Classification classify(const gp::Record& record) noexcept override {
    gp::Classification c;
    for (const auto& [keyword, category] : rules_) {
      if (record.text.find(keyword) != std::string_view::npos) {
        c.is_ticket = true;
        c.category_code = category;
        c.confidence = 1;
        c.why = {"keyword", "text contains " + keyword};
        return c;
      }
    }
    c.is_ticket = true;   // unknown matters still go to a person (the 12345 centre)
    c.why = {"no_keyword", "no rule matched"};
    return c;
  }
  std::string_view data_version() const noexcept override { return "keywords-v1"; }

 private:
  std::vector<std::pair<std::string, std::string>> rules_;
};

// The plugin gets its own [plugins.classifier_keyword] table as TOML text. A real plugin would use a
// TOML parser; this one reads the single `rules = [...]` line it understands and refuses anything else.
gp::Stage* create(const char* config_toml, const char* /*base_dir*/, char* error, std::size_t error_size) noexcept {
  try {
    std::vector<std::pair<std::string, std::string>> rules;
    std::istringstream in(config_toml);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      if (line.rfind("rules", 0) != 0) {
        std::snprintf(error, error_size, "unknown key in '%s' (only 'rules' is known)", line.c_str());
        return nullptr;
      }
      for (std::size_t q = line.find('"'); q != std::string::npos; q = line.find('"', q + 1)) {
        const std::size_t end = line.find('"', q + 1);
        const std::string item = line.substr(q + 1, end - q - 1);
        const std::size_t eq = item.find('=');
        if (eq == std::string::npos) {
          std::snprintf(error, error_size, "rules: '%s' is not keyword=category", item.c_str());
          return nullptr;
        }
        rules.emplace_back(item.substr(0, eq), item.substr(eq + 1));
        q = end;
      }
    }
    return new KeywordClassifier(std::move(rules));
  } catch (const std::exception& e) {   // nothing may cross the boundary
    std::snprintf(error, error_size, "%s", e.what());
    return nullptr;
  }
}

void destroy(gp::Stage* stage) noexcept { delete stage; }

const gp::Descriptor kDescriptor{gp::kAbiVersion, sizeof(gp::Descriptor), "classifier_keyword",
                                 gp::Kind::kClassifier, "1.0", &create, &destroy};

const gp::Descriptor* descriptor() noexcept { return &kDescriptor; }

}  // namespace

GRIDHUB_PLUGIN_MODULE(descriptor)
