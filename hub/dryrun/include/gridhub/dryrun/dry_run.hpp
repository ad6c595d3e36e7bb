#pragma once
/// `gridhubctl route`: the hub's pipeline run offline over intake files of any channel, one RouteRow
/// per source record — the check a county runs on a new rule set before going live.

#include <filesystem>
#include <string>
#include <vector>

#include "gridhub/common/result.hpp"
#include "gridhub/dryrun/score.hpp"
#include "gridhub/pipeline/pipeline.hpp"
#include "gridhub/v1/event.pb.h"

namespace gridhub::dryrun {

/// Input formats; kAuto detects from the extension and the first bytes.
enum class Format { kAuto, kHotlineCsv, kHotlineXlsx, kMemotraceCsv, kMemotraceTxt, kOaXml, kJinshujuJsonl, kUrlencoded };

Result<Format> parse_format(std::string_view name);
std::string_view format_name(Format f);

struct InputRecord {
  std::string file;         // as given on the command line
  std::string record_key;   // the source's own key (labels' convention)
  gridhub::v1::Event event;
};

struct ReadOptions {
  Format format = Format::kAuto;
  std::filesystem::path field_map;   // form-builder field map (jinshuju); default: beside the input
  int utc_offset_minutes = 480;
};

/// Reads one input file into records; a file-level error names the file.
Result<std::vector<InputRecord>> read_input(const std::string& file, const ReadOptions& options);

/// Gives WeChat texts the location their sender sent just before (wechat::LocationPairer), in time order.
std::vector<InputRecord> pair_locations(std::vector<InputRecord> records);

/// Runs the pipeline over the records in order; ticket ids are assigned as the hub would (T + seq).
std::vector<RouteRow> run(pipeline::Pipeline& pipeline, const std::vector<InputRecord>& records);

}  // namespace gridhub::dryrun
