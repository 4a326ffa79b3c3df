// IncidentLog: folding, resolving, MTTR, the in-memory limit, the JSONL file and its failures,
// and concurrent use. Time is passed in by hand.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/resilience/incidents.hpp"

using namespace switchyard::resilience;

namespace {

constexpr int64_t kT0 = 1'795'631'400'123;  // 2026-11-25T18:30:00.123Z

// A fresh path in this process's scratch directory, which is removed at exit.
std::filesystem::path temp_file(const std::string& name) {
    struct ScratchDir {
        std::filesystem::path path = std::filesystem::path(::testing::TempDir()) /
                                     ("incidents_test_" + std::to_string(::getpid()));
        ScratchDir() { std::filesystem::create_directories(path); }
        ~ScratchDir() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    };
    static const ScratchDir dir;
    const auto path = dir.path / name;
    std::filesystem::remove(path);
    return path;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line))
        lines.push_back(line);
    return lines;
}

std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(IncidentLog, OpenFoldsOccurrencesAndResolve) {
    IncidentLog log("");
    const uint64_t a = log.open("circuit_open", "gpt-a", "5 consecutive failures", kT0);
    EXPECT_EQ(log.open("circuit_open", "gpt-a", "again", kT0 + 10), a);
    EXPECT_EQ(log.open("circuit_open", "gpt-a", "again", kT0 + 20), a);
    const uint64_t b = log.open("route_outage", "gpt-a", "tried gpt-a, gpt-b", kT0 + 30);
    EXPECT_NE(a, b) << "same subject, other kind: another incident";
    EXPECT_TRUE(log.is_open("circuit_open", "gpt-a"));
    EXPECT_FALSE(log.is_open("circuit_open", "gpt-b"));

    auto all = log.recent(10);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, b) << "newest first";
    EXPECT_EQ(all[1].occurrences, 3);
    EXPECT_EQ(all[1].detail, "5 consecutive failures") << "the first failure's detail is kept";
    EXPECT_TRUE(all[1].open());

    EXPECT_FALSE(log.resolve("circuit_open", "gpt-b", "breaker closed", kT0 + 40));
    EXPECT_TRUE(log.resolve("circuit_open", "gpt-a", "breaker closed", kT0 + 1'000));
    EXPECT_FALSE(log.resolve("circuit_open", "gpt-a", "breaker closed", kT0 + 1'001));
    EXPECT_FALSE(log.is_open("circuit_open", "gpt-a"));

    all = log.recent(10);
    ASSERT_EQ(all.size(), 2u);
    EXPECT_FALSE(all[1].open());
    EXPECT_EQ(all[1].resolved_ms, kT0 + 1'000);
    EXPECT_EQ(all[1].resolution, "breaker closed");
    const auto open_only = log.recent(10, true);
    ASSERT_EQ(open_only.size(), 1u);
    EXPECT_EQ(open_only[0].id, b);
    EXPECT_EQ(log.recent(1).size(), 1u);

    // After a resolve, the next failure opens a new incident.
    const uint64_t c = log.open("circuit_open", "gpt-a", "again", kT0 + 2'000);
    EXPECT_NE(c, a);
    EXPECT_EQ(log.recent(10).front().occurrences, 1);

    const IncidentStats s = log.stats();
    EXPECT_EQ(s.opened, 3);
    EXPECT_EQ(s.resolved, 1);
    EXPECT_EQ(s.open_now, 2);
    EXPECT_EQ(s.write_errors, 0);
}

TEST(IncidentLog, MttrIsTheMeanOfResolvedDurations) {
    IncidentLog log("");
    EXPECT_EQ(log.stats().mttr_ms, 0);
    log.open("circuit_open", "a", "", kT0);
    log.open("circuit_open", "b", "", kT0);
    log.open("circuit_open", "c", "", kT0);
    log.resolve("circuit_open", "a", "breaker closed", kT0 + 1'000);
    EXPECT_DOUBLE_EQ(log.stats().mttr_ms, 1'000);
    log.resolve("circuit_open", "b", "breaker closed", kT0 + 4'000);
    EXPECT_DOUBLE_EQ(log.stats().mttr_ms, 2'500);
    // Still open: not in the mean.
    EXPECT_EQ(log.stats().open_now, 1);
    // A clock that went back counts as zero, never negative.
    log.resolve("circuit_open", "c", "breaker closed", kT0 - 500);
    EXPECT_DOUBLE_EQ(log.stats().mttr_ms, 5'000.0 / 3);
}

TEST(IncidentLog, KeepLimitDropsOldestResolvedNeverOpen) {
    IncidentLog log("", 3);
    log.open("route_outage", "open-1", "", kT0);  // stays open throughout
    for (int i = 0; i < 5; ++i) {
        const std::string subject = "r" + std::to_string(i);
        log.open("route_outage", subject, "", kT0 + i);
        log.resolve("route_outage", subject, "request succeeded", kT0 + i + 1);
    }
    auto all = log.recent(100);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].subject, "r4");
    EXPECT_EQ(all[1].subject, "r3");
    EXPECT_EQ(all[2].subject, "open-1");

    // More open incidents than `keep`: none is dropped.
    for (int i = 0; i < 5; ++i)
        log.open("circuit_open", "d" + std::to_string(i), "", kT0 + 10);
    all = log.recent(100);
    EXPECT_EQ(all.size(), 6u);
    EXPECT_EQ(log.recent(100, true).size(), 6u);
    EXPECT_TRUE(log.is_open("route_outage", "open-1"));
    // Resolving makes them droppable again.
    for (int i = 0; i < 5; ++i) {
        log.resolve("circuit_open", "d" + std::to_string(i), "breaker closed", kT0 + 20);
    }
    all = log.recent(100);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[2].subject, "open-1");
    EXPECT_EQ(log.stats().opened, 11) << "stats count since start, not what is kept";
    EXPECT_EQ(log.stats().resolved, 10);
}

TEST(IncidentLog, ToJsonOpenAndResolved) {
    Incident incident;
    incident.id = 7;
    incident.kind = "circuit_open";
    incident.subject = "gpt \"4\"";
    incident.detail = "line\nbreak";
    incident.opened_ms = kT0;
    EXPECT_EQ(IncidentLog::to_json(incident),
              R"({"id":7,"kind":"circuit_open","subject":"gpt \"4\"","detail":"line\nbreak",)"
              R"("opened_at":"2026-11-25T18:30:00.123Z","resolved_at":null,"duration_ms":null,)"
              R"("occurrences":1,"resolution":""})");
    incident.resolved_ms = kT0 + 61'877;
    incident.occurrences = 4;
    incident.resolution = "breaker closed";
    const std::string json = IncidentLog::to_json(incident, "resolved");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
    EXPECT_EQ(std::string_view(doc["event"]), "resolved");
    EXPECT_EQ(std::string_view(doc["subject"]), "gpt \"4\"");
    EXPECT_EQ(std::string_view(doc["opened_at"]), "2026-11-25T18:30:00.123Z");
    EXPECT_EQ(std::string_view(doc["resolved_at"]), "2026-11-25T18:31:02.000Z");
    EXPECT_EQ(int64_t(doc["duration_ms"]), 61'877);
    EXPECT_EQ(int64_t(doc["occurrences"]), 4);
}

TEST(IncidentLog, WritesOpenAndResolvedLinesOnly) {
    const auto path = temp_file("incidents.jsonl");
    {
        IncidentLog log(path.string());
        EXPECT_EQ(log.path(), path.string());
        log.open("circuit_open", "gpt-a", "failure rate 60% over 10 calls", kT0);
        log.open("circuit_open", "gpt-a", "again", kT0 + 5);  // folded: no line
        log.open("route_outage", "chat-default", "tried gpt-a, gpt-b", kT0 + 7);
        log.resolve("circuit_open", "gpt-a", "breaker closed", kT0 + 2'500);
    }
    const auto lines = read_lines(path);
    ASSERT_EQ(lines.size(), 3u) << file_text(path);
    simdjson::dom::parser parser;
    std::vector<std::string> events;
    for (const auto& line : lines) {
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
        events.emplace_back(std::string_view(doc["event"]));
    }
    EXPECT_EQ(events, (std::vector<std::string>{"open", "open", "resolved"}));

    simdjson::dom::element first;
    ASSERT_EQ(parser.parse(lines[0]).get(first), simdjson::SUCCESS);
    EXPECT_EQ(int64_t(first["id"]), 1);
    EXPECT_EQ(std::string_view(first["detail"]), "failure rate 60% over 10 calls");
    EXPECT_TRUE(first["resolved_at"].is_null());
    EXPECT_TRUE(first["duration_ms"].is_null());

    simdjson::dom::element last;
    ASSERT_EQ(parser.parse(lines[2]).get(last), simdjson::SUCCESS);
    EXPECT_EQ(int64_t(last["id"]), 1);
    EXPECT_EQ(std::string_view(last["kind"]), "circuit_open");
    EXPECT_EQ(int64_t(last["occurrences"]), 2);
    EXPECT_EQ(int64_t(last["duration_ms"]), 2'500);
    EXPECT_EQ(std::string_view(last["resolution"]), "breaker closed");
    EXPECT_EQ(std::string_view(last["resolved_at"]), "2026-11-25T18:30:02.623Z");

    // A second log on the same file appends.
    {
        IncidentLog log(path.string());
        log.open("circuit_open", "gpt-b", "", kT0);
    }
    EXPECT_EQ(read_lines(path).size(), 4u);
}

TEST(IncidentLog, AppendsRunThroughTheExecutor) {
    const auto path = temp_file("posted.jsonl");
    IncidentLog log(path.string());
    std::vector<std::function<void()>> queued;
    log.set_executor([&queued](std::function<void()> task) { queued.push_back(std::move(task)); });
    log.open("circuit_open", "gpt-a", "", kT0);
    log.resolve("circuit_open", "gpt-a", "breaker closed", kT0 + 1);
    EXPECT_EQ(queued.size(), 2u);
    EXPECT_FALSE(std::filesystem::exists(path)) << "nothing written before the executor runs";
    for (auto& task : queued)
        task();
    EXPECT_EQ(read_lines(path).size(), 2u);
}

TEST(IncidentLog, UnwritablePathCountsErrorsAndKeepsMemory) {
    const auto dir = temp_file("a-directory");
    std::filesystem::create_directories(dir);
    IncidentLog log(dir.string());
    EXPECT_NO_THROW(log.open("circuit_open", "gpt-a", "", kT0));
    EXPECT_NO_THROW(log.resolve("circuit_open", "gpt-a", "breaker closed", kT0 + 10));
    EXPECT_NO_THROW(log.open("circuit_open", "gpt-b", "", kT0 + 20));
    const IncidentStats s = log.stats();
    EXPECT_EQ(s.write_errors, 3);
    EXPECT_EQ(s.opened, 2);
    EXPECT_EQ(s.resolved, 1);
    EXPECT_EQ(log.recent(10).size(), 2u);
}

TEST(IncidentLog, ConcurrentOpenResolveStaysConsistent) {
    const auto path = temp_file("concurrent.jsonl");
    IncidentLog log(path.string(), 50);
    constexpr int kThreads = 4;
    constexpr int kRounds = 500;
    std::atomic<int64_t> resolved{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&log, &resolved, t] {
            for (int i = 0; i < kRounds; ++i) {
                // Two subjects shared by all threads, one per thread.
                const std::string subject =
                    i % 3 == 0 ? "own-" + std::to_string(t) : "shared-" + std::to_string(i % 2);
                const int64_t now = kT0 + i;
                log.open("circuit_open", subject, "x", now);
                if (log.is_open("circuit_open", subject) && i % 4 == 0 &&
                    log.resolve("circuit_open", subject, "breaker closed", now + 1)) {
                    resolved.fetch_add(1);
                }
                (void)log.recent(5);
                (void)log.stats();
            }
        });
    }
    for (auto& th : threads)
        th.join();

    const IncidentStats s = log.stats();
    EXPECT_EQ(s.resolved, resolved.load());
    EXPECT_EQ(s.opened, s.resolved + s.open_now);
    EXPECT_LE(s.open_now, kThreads + 2);
    EXPECT_EQ(s.write_errors, 0);
    const auto open = log.recent(1000, true);
    EXPECT_EQ(static_cast<int64_t>(open.size()), s.open_now);
    EXPECT_LE(log.recent(1000).size(), std::max<size_t>(50, open.size()));
    int64_t folded = 0;
    for (const auto& incident : log.recent(1000))
        folded += incident.occurrences;
    EXPECT_LE(folded, int64_t{kThreads} * kRounds);

    // Every open and resolve left exactly one well-formed line.
    const auto lines = read_lines(path);
    EXPECT_EQ(static_cast<int64_t>(lines.size()), s.opened + s.resolved);
    simdjson::dom::parser parser;
    for (const auto& line : lines) {
        simdjson::dom::element doc;
        ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
    }
}

}  // namespace
