// The classifier_ngram stage: loads a Model artefact and classifies records behind the plugin ABI.
#include "gridhub/plugins/classifier_ngram.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "gridhub/common/config.hpp"

namespace gridhub::classifier_ngram {
namespace {

const config::Spec& spec() {
  static const config::Spec kSpec{
      {"model", config::Type::kString, true, "path of the model artefact (Model::save), relative to base_dir"},
      {"ticket_threshold", config::Type::kFloat, false, "P(ticket) at or above which a record is a ticket (0.5)"},
      {"min_confidence", config::Type::kFloat, false,
       "abstention threshold: below this calibrated category confidence a ticket keeps an empty category and "
       "its top three suggestions, for the 12345 centre's manual dispatch (0.7; 0 = never abstain)"},
      {"staff_never_ticket", config::Type::kBoolean, false,
       "chat messages from the exporting staff account are never tickets (true)"},
  };
  return kSpec;
}

class NgramClassifier final : public plugin::Classifier {
 public:
  NgramClassifier(Model model, double ticket_threshold, double min_confidence, bool staff_never_ticket)
      : model_(std::move(model)),
        ticket_threshold_(ticket_threshold),
        min_confidence_(min_confidence),
        staff_never_ticket_(staff_never_ticket) {}

  std::string_view data_version() const noexcept override { return model_.data_version(); }

  plugin::Classification classify(const plugin::Record& record) noexcept override {
    plugin::Classification out;
    try {
      if (staff_never_ticket_ && record.from_staff) {
        // Staff write notices ("明天停水") and quote-replies to complaints: about tickets, never new ones.
        out.confidence = 1;
        out.why = {"staff_message", "written by the group's staff account"};
        return out;
      }
      Prediction p = model_.predict(record, ticket_threshold_);
      out.is_ticket = p.is_ticket;
      out.confidence = p.confidence;
      out.why.rule = std::move(p.rule);
      out.why.detail = std::move(p.why);
      out.suggestions = std::move(p.suggestions);
      if (p.is_ticket && p.confidence < min_confidence_) {
        // Abstain: no guess, the suggestions go to the 12345 centre's dispatcher instead.
        out.why.rule = "low_confidence";
        out.why.detail += fmt::format(" (confidence {:.2f} below min_confidence {:.2f}: manual dispatch)", p.confidence,
                                      min_confidence_);
      } else {
        out.category_code = std::move(p.category);
      }
    } catch (...) {
      // Only formatting/allocation can throw here; an unscored record is not a ticket, visibly so.
      out = plugin::Classification{};
      out.why.rule = "internal_error";
    }
    return out;
  }

 private:
  Model model_;
  double ticket_threshold_;
  double min_confidence_;
  bool staff_never_ticket_;
};

void write_error(char* error, std::size_t size, std::string_view message) noexcept {
  if (error == nullptr || size == 0) return;
  const std::size_t n = std::min(size - 1, message.size());
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

plugin::Stage* create(const char* config_toml, const char* base_dir, char* error, std::size_t error_size) noexcept {
  try {
    const std::string_view text = config_toml != nullptr ? config_toml : "";
    const auto cfg = config::Config::parse(text, "classifier_ngram", base_dir != nullptr ? base_dir : "", spec());
    const double threshold = cfg.get_float("ticket_threshold", 0.5, 0.0, 1.0);
    const double min_confidence = cfg.get_float("min_confidence", kDefaultMinConfidence, 0.0, 1.0);
    const bool staff_never_ticket = cfg.get_bool("staff_never_ticket", true);
    const std::filesystem::path path = cfg.get_path("model");
    auto model = Model::load(path);
    if (!model) {
      write_error(error, error_size, fmt::format("{}: {}", cfg.where("model"), model.error().message()));
      return nullptr;
    }
    return new NgramClassifier(std::move(model).value(), threshold, min_confidence, staff_never_ticket);
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
  } catch (...) {
    write_error(error, error_size, "classifier_ngram: unknown error while creating the stage");
  }
  return nullptr;
}

void destroy(plugin::Stage* stage) noexcept { delete stage; }

}  // namespace
}  // namespace gridhub::classifier_ngram

const gridhub::plugin::Descriptor* classifier_ngram_descriptor() noexcept {
  static const gridhub::plugin::Descriptor kDescriptor{
      gridhub::plugin::kAbiVersion,
      sizeof(gridhub::plugin::Descriptor),
      "classifier_ngram",
      gridhub::plugin::Kind::kClassifier,
      "0.1.0",
      &gridhub::classifier_ngram::create,
      &gridhub::classifier_ngram::destroy,
  };
  return &kDescriptor;
}
