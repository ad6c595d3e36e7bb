// gridhub-fuzz-seedgen CORPUS_ROOT: writes the seeds that are not plain fixture files.
//   CORPUS_ROOT/hub_frame/frame_NN.bin   serialized gridhub.v1.AdapterToHub frames built from the
//       Wugong fixtures, so the events look like real adapter output: hotline rows (accepted and
//       rejected), an OA message, plus status/reload/empty frames
//   CORPUS_ROOT/hotline_xlsx/<name>.parts   each fixture .xlsx unpacked into xlsx_parts.hpp's format
// Deterministic: the same fixtures give the same files.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "gridhub/hotline/hotline_mapping.hpp"
#include "gridhub/v1/wire.pb.h"
#include "gridhub/wechat/oa_message.hpp"
#include "xlsx_parts.hpp"

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The archive's parts in xlsx_parts.hpp's format; empty if it is not a ZIP.
std::string unpack_parts(const std::string& bytes) {
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, nullptr);
  zip_t* archive = src != nullptr ? zip_open_from_source(src, ZIP_RDONLY, nullptr) : nullptr;
  if (archive == nullptr) {
    if (src != nullptr) zip_source_free(src);
    return {};
  }
  std::string out;
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_file_t* f = nullptr;
    if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0 ||
        (f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0)) == nullptr) {
      continue;
    }
    std::string content(static_cast<std::size_t>(st.size), '\0');
    const zip_int64_t got = zip_fread(f, content.data(), st.size);
    zip_fclose(f);
    if (got != static_cast<zip_int64_t>(st.size)) continue;
    out += gridhub::fuzz::kPartMarker;
    out += st.name;
    out += '\n';
    out += content;
    if (!content.empty() && content.back() != '\n') out += '\n';
  }
  zip_discard(archive);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const std::filesystem::path fixtures = GRIDHUB_SOURCE_DIR "/examples/wugong";

  const std::filesystem::path xlsx_dir = root / "hotline_xlsx";
  std::filesystem::create_directories(xlsx_dir);
  for (const auto& entry : std::filesystem::directory_iterator(fixtures / "hotline")) {
    if (entry.path().extension() != ".xlsx") continue;
    const std::string parts = unpack_parts(read_file(entry.path()));
    if (parts.empty()) {
      std::fprintf(stderr, "seedgen: %s is not a ZIP archive\n", entry.path().c_str());
      return 1;
    }
    std::ofstream(xlsx_dir / (entry.path().stem().string() + ".parts"), std::ios::binary) << parts;
  }

  const std::filesystem::path out_dir = root / "hub_frame";
  std::filesystem::create_directories(out_dir);
  int n = 0;
  auto write = [&](const gridhub::v1::AdapterToHub& frame) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%02d.bin", n++);
    std::ofstream(out_dir / name, std::ios::binary) << frame.SerializeAsString();
  };

  gridhub::v1::AdapterToHub frame;
  write(frame);  // no message set
  frame.mutable_status();
  write(frame);
  frame.mutable_reload();
  write(frame);

  gridhub::hotline::ParseOptions options;
  options.adapter_id = "hotline-wugong";
  auto csv = gridhub::hotline::parse_export(read_file(fixtures / "hotline/export_20240506-20240516.csv"),
                                            "export_20240506-20240516.csv", options);
  if (!csv) {
    std::fprintf(stderr, "seedgen: %s\n", csv.error().message().c_str());
    return 1;
  }
  int accepted = 0;
  int rejected = 0;
  std::uint64_t corr = 1;
  for (const auto& ev : csv->events) {
    int& count = ev.has_rejection() ? rejected : accepted;
    if (count >= 4) continue;
    ++count;
    frame.mutable_submit()->set_correlation_id(corr++);
    *frame.mutable_submit()->mutable_event() = ev;
    write(frame);
  }

  const auto oa = gridhub::wechat::parse_oa_message(read_file(fixtures / "wechat/oa/24500008499865624.xml"),
                                                    "24500008499865624.xml", {"wechat-oa"});
  frame.mutable_submit()->set_correlation_id(corr++);
  *frame.mutable_submit()->mutable_event() = oa.event;
  write(frame);

  std::printf("seedgen: %d frames in %s, xlsx parts in %s\n", n, out_dir.c_str(), xlsx_dir.c_str());
  return 0;
}
