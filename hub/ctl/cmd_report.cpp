// gridhubctl report: the published figures — tickets by channel, category, community, grid and tier.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "command.hpp"
#include "gridhub/audit/report.hpp"
#include "gridhub/common/progress.hpp"
#include "time_options.hpp"

namespace gridhub::ctl {
namespace {

struct ReportArgs {
  std::string db;
  std::string since;
  std::string until;
  std::string format = "csv";
  std::string out_file;
  std::string categories;
};

int run_report(const ReportArgs& a) {
  gridhub::audit::ReportOptions opts;
  if (!parse_since_until(a.since, a.until, opts.since_micros, opts.until_micros)) return 2;
  std::map<std::string, std::string> names;
  if (!a.categories.empty()) {
    auto n = gridhub::audit::load_category_names(a.categories);
    if (!n) {
      std::cerr << "gridhubctl: " << n.error().message() << "\n";
      return 2;
    }
    names = std::move(n.value());
  }
  auto progress = gridhub::Progress::on_terminal(stderr, "report");
  opts.progress = &progress;
  auto data = gridhub::audit::collect_report(a.db, opts);
  if (!data) {
    std::cerr << "gridhubctl: " << data.error().message() << "\n";
    return 1;
  }
  const std::string text = a.format == "html" ? gridhub::audit::render_report_html(data.value(), names)
                                              : gridhub::audit::render_report_csv(data.value(), names);
  if (a.out_file.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return 0;
  }
  std::ofstream out(a.out_file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "gridhubctl: " << a.out_file << ": cannot write\n";
    return 1;
  }
  return 0;
}

}  // namespace

void add_report(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ReportArgs>();
  auto* report = app.add_subcommand("report", "the published figures: tickets by channel, category, community, grid and tier");
  report->add_option("--db", a->db, "the log database (or a copy)")->required()->check(CLI::ExistingFile);
  report->add_option("--since", a->since, "records at or after this time (RFC 3339 or YYYY-MM-DD, UTC)");
  report->add_option("--until", a->until, "records before this time (exclusive)");
  report->add_option("--format", a->format, "csv or html")->check(CLI::IsMember({"csv", "html"}));
  report->add_option("--out", a->out_file, "write here instead of stdout");
  report->add_option("--categories", a->categories, "the county's categories.csv, for category names")->check(CLI::ExistingFile);
  ctx.on_run(report, [a] { return run_report(*a); });
}

}  // namespace gridhub::ctl
