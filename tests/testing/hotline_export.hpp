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

/// Three reports of rubbish left lying (category 0102, handled at grid tier) in one grid of the example
/// county (610431001004002: 清河新城 and 银杏园), on different days and buildings: three tickets, which
/// the merger keeps apart — a hotspot at a threshold of three.
inline void write_garbage_reports(const std::filesystem::path& file) {
  std::ofstream(file) << "工单编号,来电时间,来电人,联系电话,受理渠道,诉求类型,问题分类,诉求内容,事发地址,备注\n"
                      << "GD-H1,2024-05-06 08:58:00,蒋梅,15233151450,电话,投诉,,来电称：反映一下，此处路边有一大堆生活垃圾，"
                         "三天没人拉走。希望尽快处理。,武功县普集街道书院社区清河新城11幢,\n"
                      << "GD-H2,2024-05-07 16:17:00,白鹏,13752645285,电话,投诉,,来电人反映，该处有人乱倒生活垃圾，"
                         "苍蝇蚊子特别多，麻烦尽快派人来看看。,银杏园1号楼,\n"
                      << "GD-H3,2024-05-08 10:20:00,王女士,13800000003,电话,投诉,,来电称：楼下垃圾桶满溢好几天了，"
                         "一直没人清运，臭气熏天。,武功县普集街道书院社区清河新城13幢,\n";
}

}  // namespace gridhub::testing
