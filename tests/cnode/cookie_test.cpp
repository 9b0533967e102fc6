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
  EXPECT_EQ(read_cookie_file(write("a", "SECRET\n", 0400)).value(), "SECRET");
  EXPECT_EQ(read_cookie_file(write("b", "with space \r\n \n", 0600)).value(), "with space ");
}

TEST_F(CookieFile, RefusesFilesOthersCanRead) {
  const auto cookie = read_cookie_file(write("c", "SECRET", 0644));
  ASSERT_FALSE(cookie);
  EXPECT_EQ(cookie.error().code, std::errc::permission_denied);
  EXPECT_NE(cookie.error().message.find("owner only"), std::string::npos) << cookie.error().message;
  EXPECT_EQ(cookie.error().message.find("SECRET"), std::string::npos);
}

TEST_F(CookieFile, RefusesBadContent) {
  const auto message_for = [](const codec::Result<std::string, Failure>& cookie) {
    return cookie ? "read " + *cookie : cookie.error().message;
  };
  EXPECT_NE(message_for(read_cookie_file(write("d", "", 0400))).find("empty"), std::string::npos);
  EXPECT_NE(message_for(read_cookie_file(write("e", "AB\nCD", 0400))).find("bad characters"),
            std::string::npos);
  const auto missing = read_cookie_file((dir / "missing").string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, std::errc::no_such_file_or_directory);
}

TEST_F(CookieFile, DefaultCookieIsCreatedLikeErlDoes) {
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home != nullptr ? old_home : "";
  ::setenv("HOME", dir.c_str(), 1);
  ::setenv("XDG_CONFIG_HOME", (dir / "xdg").c_str(), 1);
  const auto made = load_default_cookie();
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->path, (dir / ".erlang.cookie").string());
  EXPECT_EQ(made->cookie.size(), 20U);
  for (char c : made->cookie) EXPECT_TRUE(c >= 'A' && c <= 'Z');
  struct stat st {};
  ASSERT_EQ(::stat(made->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400U);
  const auto again = load_default_cookie();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->cookie, made->cookie);
  ::setenv("HOME", saved.c_str(), 1);
  ::unsetenv("XDG_CONFIG_HOME");
}

}  // namespace
}  // namespace cppnode::cnode
