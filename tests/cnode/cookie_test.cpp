// SPDX-License-Identifier: Apache-2.0
#include "cppnode/cnode/cookie.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace cppnode::cnode {
namespace {

class CookieFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("cppnode_cookie_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const auto path = (dir / name).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::filesystem::path dir;
};

TEST_F(CookieFile, ReadsLikeErl) {
  std::string cookie;
  std::string message;
  EXPECT_FALSE(read_cookie_file(write("a", "SECRET\n", 0400), cookie, &message)) << message;
  EXPECT_EQ(cookie, "SECRET");
  EXPECT_FALSE(read_cookie_file(write("b", "with space \r\n \n", 0600), cookie, &message));
  EXPECT_EQ(cookie, "with space ");
}

TEST_F(CookieFile, RefusesFilesOthersCanRead) {
  std::string cookie = "unchanged";
  std::string message;
  const auto path = write("c", "SECRET", 0644);
  EXPECT_EQ(read_cookie_file(path, cookie, &message), std::errc::permission_denied);
  EXPECT_NE(message.find("owner only"), std::string::npos) << message;
  EXPECT_EQ(message.find("SECRET"), std::string::npos);
  EXPECT_EQ(cookie, "unchanged");
}

TEST_F(CookieFile, RefusesBadContent) {
  std::string cookie;
  std::string message;
  EXPECT_TRUE(read_cookie_file(write("d", "", 0400), cookie, &message));
  EXPECT_NE(message.find("empty"), std::string::npos) << message;
  EXPECT_TRUE(read_cookie_file(write("e", "AB\nCD", 0400), cookie, &message));
  EXPECT_NE(message.find("bad characters"), std::string::npos) << message;
  EXPECT_EQ(read_cookie_file((dir / "missing").string(), cookie, &message),
            std::errc::no_such_file_or_directory);
}

TEST_F(CookieFile, DefaultCookieIsCreatedLikeErlDoes) {
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home != nullptr ? old_home : "";
  ::setenv("HOME", dir.c_str(), 1);
  ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
  std::string cookie;
  std::string path;
  std::string message;
  EXPECT_FALSE(load_default_cookie(cookie, &path, &message)) << message;
  EXPECT_EQ(path, (dir / ".erlang.cookie").string());
  EXPECT_EQ(cookie.size(), 20U);
  for (char c : cookie) EXPECT_TRUE(c >= 'A' && c <= 'Z');
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400U);
  std::string again;
  EXPECT_FALSE(load_default_cookie(again, &path, &message));
  EXPECT_EQ(again, cookie);
  ::setenv("HOME", saved.c_str(), 1);
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace cppnode::cnode
