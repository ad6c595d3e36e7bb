#pragma once
// A hotline work-order export in Wugong's layout, of any size, for tests that need many records through
// a real adapter (crash, backup and restore tests).

#include <filesystem>
#include <fstream>
#include <string>

namespace gridhub::testing {

/// Writes `rows` work orders keyed <prefix>-<n> to `file`.
inline void write_export(const std::filesystem::path& file, const std::string& prefix, int rows) {
  std::ofstream out(file);
  out << "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n";
  for (int i = 0; i < rows; ++i) {
    out << prefix << "-" << i << ",2024-05-17 09:" << (10 + i % 50) << ":33,王女士,138 0000 " << (1000 + i % 9000)
        << ",电话,投诉,,\"来电称：锦绣花园" << (i % 20 + 1) << "号楼楼道灯不亮，已经一周了，请尽快处理。\",普集街道迎宾路"
        << (i % 300 + 1) << "号,\n";
  }
}

}  // namespace gridhub::testing
