// The Azure trace reader: good files, the shared real traces, and malformed input refused with
// the file and line named.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "loadgen/trace.h"
#include "util/error.h"

namespace anychip::loadgen {
namespace {

namespace fs = std::filesystem;

class LoadgenTraceFile : public ::testing::Test {
 protected:
  void SetUp() override { path_ = fs::temp_directory_path() / ("anychip_trace_" + std::to_string(getpid()) + ".csv"); }
  void TearDown() override { fs::remove(path_); }
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_.string();
  }
  // The message of the error read_azure_trace throws, or "" if it throws none.
  std::string error_of(const std::string& text) {
    try {
      read_azure_trace(write(text), 0, 1.0);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  fs::path path_;
};

TEST_F(LoadgenTraceFile, ReadsOffsetsFromTheFirstRowAndLengths) {
  const auto rows = read_azure_trace(write("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                           "2023-11-16 18:15:46.6805900,374,44\n"
                                           "2023-11-16 18:15:50.9951690,396,109\r\n"
                                           "2023-11-16 18:16:01,879,55\n"
                                           "\n"),
                                     0, 1.0);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].arrival_s, 0);
  EXPECT_NEAR(rows[1].arrival_s, 4.314579, 1e-5);
  EXPECT_NEAR(rows[2].arrival_s, 14.31941, 1e-5);
  EXPECT_EQ(rows[1].prompt_tokens, 396);
  EXPECT_EQ(rows[1].gen_tokens, 109);
}

TEST_F(LoadgenTraceFile, LimitAndTimeScale) {
  const auto rows = read_azure_trace(write("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                           "2023-11-16 23:59:59.0,1,2\n"
                                           "2023-11-17 00:00:09.0,3,4\n"
                                           "2023-11-17 00:00:19.0,5,6\n"),
                                     2, 10.0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NEAR(rows[1].arrival_s, 1.0, 1e-6);  // 10 s across midnight, replayed 10x faster
}

TEST_F(LoadgenTraceFile, MalformedInputIsRefusedNamingTheLine) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("time,a,b\n2023-11-16 18:15:46.1,1,2\n").find("line 1"), std::string::npos);
  const std::string header = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  const std::string good = "2023-11-16 18:15:46.1,1,2\n";
  EXPECT_NE(error_of(header + good + "2023-11-16 18:15:47.1,5\n").find("line 3: expected 3 columns, found 2"),
            std::string::npos);
  EXPECT_NE(error_of(header + "yesterday,1,2\n").find("line 2: bad TIMESTAMP 'yesterday'"), std::string::npos);
  EXPECT_NE(error_of(header + "2023-02-30 10:00:00,1,2\n").find("bad TIMESTAMP"), std::string::npos);
  EXPECT_NE(error_of(header + "2023-11-16 18:15:46.x,1,2\n").find("bad TIMESTAMP"), std::string::npos);
  EXPECT_NE(error_of(header + "2023-11-16 18:15:46,-4,2\n").find("ContextTokens '-4'"), std::string::npos);
  EXPECT_NE(error_of(header + "2023-11-16 18:15:46,4,two\n").find("GeneratedTokens 'two'"), std::string::npos);
  EXPECT_NE(error_of(header + good + "2023-11-16 18:15:45,1,2\n").find("before the first row"), std::string::npos);
  EXPECT_NE(error_of(header).find("no requests"), std::string::npos);
  EXPECT_EQ(error_of(header + good), "");
}

TEST_F(LoadgenTraceFile, MissingFileOrDirectory) {
  EXPECT_THROW(read_azure_trace("/nonexistent/trace.csv", 0, 1.0), Error);
  EXPECT_THROW(read_azure_trace(fs::temp_directory_path().string(), 0, 1.0), Error);
}

TEST(LoadgenTrace, SharedAzureTracesRead) {
  const fs::path dir = fs::path(ANYCHIP_SHARED_DIR) / "traces";
  if (!fs::exists(dir)) GTEST_SKIP() << "no " << dir;
  const auto conv = read_azure_trace((dir / "AzureLLMInferenceTrace_conv.csv").string(), 0, 1.0);
  EXPECT_EQ(conv.size(), 19366u);
  EXPECT_EQ(conv[0].prompt_tokens, 374);
  EXPECT_EQ(conv[0].gen_tokens, 44);
  EXPECT_GT(conv.back().arrival_s, 3000);  // an hour of traffic
  EXPECT_LT(conv.back().arrival_s, 3700);
  const auto code = read_azure_trace((dir / "AzureLLMInferenceTrace_code.csv").string(), 100, 1.0);
  EXPECT_EQ(code.size(), 100u);
}

TEST(LoadgenTrace, TimestampParsing) {
  double a, b;
  ASSERT_TRUE(parse_trace_timestamp("1970-01-02 00:00:00", a));
  EXPECT_EQ(a, 86400);
  ASSERT_TRUE(parse_trace_timestamp("2024-02-29 12:00:00.25", b));  // a leap day
  EXPECT_FALSE(parse_trace_timestamp("2023-02-29 12:00:00", a));
  EXPECT_FALSE(parse_trace_timestamp("2023-11-16T18:15:46", a));
  EXPECT_FALSE(parse_trace_timestamp("2023-11-16 18:15:46.", a));
  EXPECT_FALSE(parse_trace_timestamp("2023-11-16 25:15:46", a));
}

}  // namespace
}  // namespace anychip::loadgen
