#pragma once
// The bundled example county's sample files and their labels, for the parsers' unit tests.

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "gridhub/text/csv_reader.hpp"

namespace gridhub::fixtures {

inline const std::string kFixtureDir = std::string(GRIDHUB_SOURCE_DIR) + "/examples/wugong/";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

/// record_key -> malformed, for the labels.csv rows of one channel and file ("webform/h5_form_posts.txt").
inline std::map<std::string, bool> labelled(const std::string& channel, const std::string& file) {
  const std::string labels = read_file(kFixtureDir + "labels.csv");
  text::CsvReader reader(labels);
  text::CsvRecord rec;
  std::map<std::string, bool> rows;
  EXPECT_TRUE(reader.next(rec));   // header
  EXPECT_EQ(rec.fields.at(2), "record_key");
  EXPECT_EQ(rec.fields.at(4), "malformed");
  while (reader.next(rec)) {
    if (rec.fields.at(0) == channel && rec.fields.at(1) == file) rows[rec.fields.at(2)] = rec.fields.at(4) == "1";
  }
  return rows;
}

}  // namespace gridhub::fixtures
