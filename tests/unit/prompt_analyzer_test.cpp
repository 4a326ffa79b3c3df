// Prompt analyser: each PII detector (valid and invalid checksums, boundaries, offsets, the
// usual false friends), the request-level needs and language, and the labelled set in
// tests/data/routing/labelled_prompts.jsonl with accuracy per field printed and floored.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "switchyard/routing/pii.hpp"
#include "switchyard/routing/prompt_analyzer.hpp"

using namespace switchyard;
using namespace switchyard::routing;
namespace fs = std::filesystem;

namespace {

struct Found {
    PiiKind kind;
    std::string text;
    bool operator==(const Found&) const = default;
};

std::vector<Found> scan(std::string_view text, const PiiOptions& o = {}) {
    std::vector<PiiFinding> out;
    scan_pii(text, o, out);
    std::vector<Found> r;
    for (const auto& f : out) {
        EXPECT_LE(f.offset + f.length, text.size());
        r.push_back({f.kind, std::string(text.substr(f.offset, f.length))});
    }
    return r;
}

void expect_one(std::string_view text, PiiKind kind, std::string_view match) {
    const auto r = scan(text);
    ASSERT_EQ(r.size(), 1u) << text;
    EXPECT_EQ(r[0].kind, kind) << text;
    EXPECT_EQ(r[0].text, match) << text;
}

void expect_none(std::string_view text) {
    const auto r = scan(text);
    EXPECT_TRUE(r.empty()) << text << " -> " << (r.empty() ? "" : to_string(r[0].kind)) << " "
                           << (r.empty() ? "" : r[0].text);
}

Message msg(Role role, std::string text) {
    Message m;
    m.role = role;
    m.text = std::move(text);
    return m;
}

ChatRequest user(std::string text) {
    ChatRequest r;
    r.model = "auto";
    Message m;
    m.role = Role::kUser;
    m.text = std::move(text);
    r.messages.push_back(std::move(m));
    return r;
}

}  // namespace

TEST(PiiChecks, Luhn) {
    EXPECT_TRUE(luhn_valid("4111111111111111"));
    EXPECT_TRUE(luhn_valid("378282246310005"));
    EXPECT_FALSE(luhn_valid("4111111111111112"));
    EXPECT_FALSE(luhn_valid(""));
    EXPECT_FALSE(luhn_valid("41111x1111111111"));
}

TEST(PiiChecks, CardIin) {
    EXPECT_TRUE(card_iin_known("4111111111111111"));   // Visa 16
    EXPECT_TRUE(card_iin_known("5555555555554444"));   // Mastercard
    EXPECT_TRUE(card_iin_known("2221000000000009"));   // Mastercard 2-series
    EXPECT_TRUE(card_iin_known("378282246310005"));    // Amex 15
    EXPECT_FALSE(card_iin_known("3782822463100050"));  // Amex is never 16
    EXPECT_TRUE(card_iin_known("6011111111111117"));   // Discover
    EXPECT_TRUE(card_iin_known("3530111333300000"));   // JCB
    EXPECT_FALSE(card_iin_known("9780306406157000"));  // no such issuer
    EXPECT_FALSE(card_iin_known("411111111111"));      // too short
}

TEST(PiiChecks, Iban) {
    EXPECT_TRUE(iban_valid("DE89370400440532013000"));
    EXPECT_TRUE(iban_valid("GB82WEST12345698765432"));
    EXPECT_TRUE(iban_valid("FR1420041010050500013M02606"));
    EXPECT_TRUE(iban_valid("NL91ABNA0417164300"));
    EXPECT_FALSE(iban_valid("DE89370400440532013001"));  // mod 97
    EXPECT_FALSE(iban_valid("DE8937040044053201300"));   // length for DE is 22
    EXPECT_FALSE(iban_valid("ZZ89370400440532013000"));  // no such country
    EXPECT_FALSE(iban_valid("de89370400440532013000"));  // callers upper-case first
}

TEST(PiiChecks, UsSsn) {
    EXPECT_TRUE(us_ssn_valid("536228140"));
    EXPECT_FALSE(us_ssn_valid("000228140"));  // area 000
    EXPECT_FALSE(us_ssn_valid("666228140"));  // area 666
    EXPECT_FALSE(us_ssn_valid("912228140"));  // area 900-999 (ITINs)
    EXPECT_FALSE(us_ssn_valid("536008140"));  // group 00
    EXPECT_FALSE(us_ssn_valid("536220000"));  // serial 0000
    EXPECT_FALSE(us_ssn_valid("078051120"));  // the Woolworth wallet card
    EXPECT_FALSE(us_ssn_valid("12345678"));
}

TEST(PiiChecks, UkNino) {
    EXPECT_TRUE(uk_nino_valid("AB123456C"));
    EXPECT_FALSE(uk_nino_valid("QQ123456C"));  // Q never first (HMRC's documentation one)
    EXPECT_FALSE(uk_nino_valid("AO123456C"));  // O never second
    EXPECT_FALSE(uk_nino_valid("GB123456C"));  // excluded prefix
    EXPECT_FALSE(uk_nino_valid("AB123456E"));  // suffix A-D only
    EXPECT_FALSE(uk_nino_valid("AB12345C"));
}

TEST(PiiChecks, GermanTaxId) {
    EXPECT_TRUE(de_tax_id_valid("86095742719"));
    EXPECT_TRUE(de_tax_id_valid("47036892816"));
    EXPECT_FALSE(de_tax_id_valid("86095742718"));  // check digit
    EXPECT_FALSE(de_tax_id_valid("12345678903"));  // no repeated digit: invalid since 2016
    EXPECT_FALSE(de_tax_id_valid("06095742719"));  // leading zero
    EXPECT_FALSE(de_tax_id_valid("1112345678"));
}

TEST(PiiScan, Email) {
    expect_one("mail jane.doe+tag@example.co.uk now", PiiKind::kEmail,
               "jane.doe+tag@example.co.uk");
    expect_one("a@b.io", PiiKind::kEmail, "a@b.io");
    expect_one("(bob@x-y.com).", PiiKind::kEmail, "bob@x-y.com");
    expect_none("@Override public void run()");
    expect_none("user@localhost and me@ and @app.route('/x')");
    expect_none("foo@bar.c0m");  // TLD must be letters
}

TEST(PiiScan, EmailOffsets) {
    std::vector<PiiFinding> out;
    scan_pii("to: ann@x.org, bo@y.de", {}, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].offset, 4u);
    EXPECT_EQ(out[0].length, 9u);
    EXPECT_EQ(out[1].offset, 15u);
    EXPECT_EQ(out[1].length, 7u);
}

TEST(PiiScan, Phone) {
    expect_one("call +1 415 555 0132 today", PiiKind::kPhone, "+1 415 555 0132");
    expect_one("+44 (0)20 7946 0958", PiiKind::kPhone, "+44 (0)20 7946 0958");
    expect_one("ring (212) 555-0147.", PiiKind::kPhone, "(212) 555-0147");
    expect_one("ring 212-555-0147", PiiKind::kPhone, "212-555-0147");
    expect_one("1-800-555-0199", PiiKind::kPhone, "1-800-555-0199");
    expect_one("Tel. 030 12345678", PiiKind::kPhone, "030 12345678");
    expect_one("0171/2345678", PiiKind::kPhone, "0171/2345678");
    expect_one("06 12 34 56 78", PiiKind::kPhone, "06 12 34 56 78");
    expect_one("06.12.34.56.78", PiiKind::kPhone, "06.12.34.56.78");
    expect_one("+4915112345678", PiiKind::kPhone, "+4915112345678");
    expect_one("0044 20 7946 0958", PiiKind::kPhone, "0044 20 7946 0958");
}

TEST(PiiScan, NumbersThatAreNotPii) {
    expect_none("released 2024-03-15 at 10:30, or 15.03.2024, or 03/15/2024");
    expect_none("version 10.4.12 and v2.14.3, build 1.2.3.4567");
    expect_none("server 192.168.10.254 and 10.0.0.1:8080");
    expect_none("ISBN 978-0-306-40615-7 and ISBN-10 0-306-40615-2");
    expect_none("order 1234567890, ticket #48213222, ORD-2024-000123, $1,299,999.99");
    expect_none("unix time 1700000000 and 1,000,003");
    expect_none("tracking 1Z999AA10123456784 and uuid 123e4567-e89b-12d3-a456-426614174000");
    expect_none("card 4111 1111 1111 1112 fails Luhn");
    expect_none("pi is 3.14159265358979");
    expect_none("000-12-3456 and 666-12-3456 are not SSNs");
    expect_none("tax id 12345678903");
}

TEST(PiiScan, Cards) {
    expect_one("card 4111 1111 1111 1111 exp 09/27", PiiKind::kPaymentCard, "4111 1111 1111 1111");
    expect_one("4111-1111-1111-1111", PiiKind::kPaymentCard, "4111-1111-1111-1111");
    expect_one("4111111111111111", PiiKind::kPaymentCard, "4111111111111111");
    expect_one("amex 3782 822463 10005.", PiiKind::kPaymentCard, "3782 822463 10005");
    // Trailing digits after a complete card number are not part of it.
    expect_one("4539 1488 0343 6467 2027", PiiKind::kPaymentCard, "4539 1488 0343 6467");
    expect_none("4111 1111-1111 1111");  // mixed separators
}

TEST(PiiScan, IbanSsnNinoTaxId) {
    expect_one("IBAN DE89 3704 0044 0532 0130 00.", PiiKind::kIban, "DE89 3704 0044 0532 0130 00");
    expect_one("GB82WEST12345698765432", PiiKind::kIban, "GB82WEST12345698765432");
    expect_none("DE89 3704 0044 0532 0130 01");
    expect_one("SSN 536-22-8140", PiiKind::kUsSsn, "536-22-8140");
    expect_one("SSN 536 22 8140", PiiKind::kUsSsn, "536 22 8140");
    expect_one("NI AB 12 34 56 C.", PiiKind::kUkNino, "AB 12 34 56 C");
    expect_one("NI AB123456C", PiiKind::kUkNino, "AB123456C");
    expect_none("QQ 12 34 56 C");
    expect_one("IdNr 86095742719", PiiKind::kDeTaxId, "86095742719");
    expect_one("IdNr 86 095 742 719", PiiKind::kDeTaxId, "86 095 742 719");
}

TEST(PiiScan, Credentials) {
    const std::string openai = "sk-proj-4fQ9vR2mX7tL1pZ8wK3nB6yH0cJ5dG2sA9eU4iO7";
    expect_one("key=" + openai + ";", PiiKind::kApiKey, openai);
    expect_one("sk-ant-api03-Zr7Qp2Xk9LmV4tW8nB1cH6yJ3sD5gF0aE-u9iO2pK7", PiiKind::kApiKey,
               "sk-ant-api03-Zr7Qp2Xk9LmV4tW8nB1cH6yJ3sD5gF0aE-u9iO2pK7");
    expect_one("sk-sy-9fK2mQ7xR4tL8vN1pZ6wB3yH5cJ0dG2sA7eU4iT", PiiKind::kApiKey,
               "sk-sy-9fK2mQ7xR4tL8vN1pZ6wB3yH5cJ0dG2sA7eU4iT");
    expect_one("AKIA2E0A8F3B244C9986 ", PiiKind::kApiKey, "AKIA2E0A8F3B244C9986");
    expect_one("ASIAY34FZKBOKMUTVV7A", PiiKind::kApiKey, "ASIAY34FZKBOKMUTVV7A");
    expect_one("ghp_R8t2Kq9vLm4Xw7Zp1Nc6Hs3Jd5Fb0Ya8Ue2T", PiiKind::kApiKey,
               "ghp_R8t2Kq9vLm4Xw7Zp1Nc6Hs3Jd5Fb0Ya8Ue2T");
    expect_one("xoxb-2837461928-8273649182736-Hq7vKp2LmXw9Rt4Zs8Nc", PiiKind::kApiKey,
               "xoxb-2837461928-8273649182736-Hq7vKp2LmXw9Rt4Zs8Nc");
    expect_one("AIzaSyD4k8Xv2Qm7Lp9Rt3Wn6Bz1Hc5Jf0Ga8Ye", PiiKind::kApiKey,
               "AIzaSyD4k8Xv2Qm7Lp9Rt3Wn6Bz1Hc5Jf0Ga8Ye");
    expect_one("sk_live_51HqLyTk2eZvKYlo2C8aQ7mN3pR5sT9uW", PiiKind::kApiKey,
               "sk_live_51HqLyTk2eZvKYlo2C8aQ7mN3pR5sT9uW");
    const std::string jwt =
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
        "XgL0n3I9PlFUP0THsR8U";
    expect_one("Bearer " + jwt, PiiKind::kJwt, jwt);
    // Placeholders and look-alikes.
    expect_none(
        "sk-your-api-key-here sk-xxxxxxxxxxxxxxxxxxxxxxxx sk-learn sk-1234567890abcdefghij");
    expect_none("AKIAIOSFODNN7EXAMPLE");
    expect_none("task-ABCDEFGH1234567890ab risk-assessment eyJ.short.x");
    expect_none("sk_test_51HqLyTk2eZvKYlo2C8aQ7mN3pR5sT9uW");  // Stripe test keys: by design
}

TEST(PiiScan, PrivateKey) {
    const std::string block =
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
        "-----END OPENSSH PRIVATE KEY-----";
    expect_one("key:\n" + block + "\nthanks", PiiKind::kPrivateKey, block);
    // Without its END line the rest of the text is treated as key material.
    expect_one("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", PiiKind::kPrivateKey,
               "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg");
    expect_none("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----");
    expect_none("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
}

TEST(PiiScan, LevelsAreConfigurable) {
    PiiOptions o;
    o.level_of[static_cast<int>(PiiKind::kEmail)] = PrivacyLevel::kNone;
    EXPECT_TRUE(scan("ann@x.org +1 415 555 0132", o).size() == 1);
    PromptAnalyzer strict([] {
        AnalyzerOptions a;
        a.pii.level_of[static_cast<int>(PiiKind::kPhone)] = PrivacyLevel::kSecret;
        return a;
    }());
    EXPECT_EQ(strict.analyze(user("call +1 415 555 0132")).privacy, PrivacyLevel::kSecret);
    EXPECT_EQ(PromptAnalyzer().analyze(user("call +1 415 555 0132")).privacy,
              PrivacyLevel::kPersonal);
}

TEST(PiiScan, HostileInputs) {
    std::string junk;
    for (int i = 0; i < 4096; ++i)
        junk.push_back(static_cast<char>((i * 131) & 0xFF));
    (void)scan(junk);
    (void)scan(std::string(10000, '@'));
    (void)scan(std::string(10000, '1'));
    (void)scan(std::string(5000, '-') + "-----BEGIN ");
    const auto r = scan(std::string(300, 'a') + "@" + std::string(40, 'b') + ".com");
    ASSERT_EQ(r.size(), 1u);  // local part capped at 64 characters
    EXPECT_EQ(r[0].text.size(), 64u + 1 + 40 + 4);
}

TEST(PromptAnalyzer, Needs) {
    PromptAnalyzer an;
    auto r = user("What's the weather in Paris?");
    auto a = an.analyze(r, 12);
    EXPECT_FALSE(a.needs_tools || a.needs_json || a.needs_long_context || a.needs_vision);
    EXPECT_EQ(a.prompt_tokens, 12);
    EXPECT_TRUE(a.prompt_tokens_exact);

    r.tools.push_back({"get_weather", "", "{}", ""});
    EXPECT_TRUE(an.analyze(r).needs_tools);
    r.tools.clear();
    r.tool_choice_json = "\"none\"";
    EXPECT_FALSE(an.analyze(r).needs_tools);

    r.passthrough.push_back({"response_format", R"({"type":"json_schema","json_schema":{}})"});
    EXPECT_TRUE(an.analyze(r).needs_json);
    EXPECT_TRUE(an.analyze(user("Respond in JSON with the fields name and age.")).needs_json);
    EXPECT_FALSE(an.analyze(user("What is JSON?")).needs_json);

    EXPECT_TRUE(an.analyze(user("x"), 40'000).needs_long_context);
    const auto est = an.analyze(user(std::string(200'000, 'a')));
    EXPECT_FALSE(est.prompt_tokens_exact);
    EXPECT_EQ(est.prompt_tokens, 50'000);
    EXPECT_TRUE(est.needs_long_context);

    ChatRequest v;
    Message m;
    m.has_parts = true;
    m.parts.push_back({ContentPart::Type::kText, "What is in this picture?", "", "", ""});
    m.parts.push_back({ContentPart::Type::kImage, "", "https://example.com/cat.png", "", ""});
    v.messages.push_back(m);
    EXPECT_TRUE(an.analyze(v).needs_vision);
}

TEST(PromptAnalyzer, FindingLocations) {
    ChatRequest r;
    Message sys;
    sys.role = Role::kSystem;
    sys.text = "Support bot.";
    Message u;
    u.role = Role::kUser;
    u.has_parts = true;
    u.parts.push_back({ContentPart::Type::kImage, "", "https://x/y.png", "", ""});
    u.parts.push_back({ContentPart::Type::kText, "mail me: ann@x.org", "", "", ""});
    Message asst;
    asst.role = Role::kAssistant;
    asst.content_null = true;
    asst.tool_calls.push_back({"c1", "lookup", R"({"card":"4111111111111111"})"});
    r.messages = {sys, u, asst};
    const auto a = PromptAnalyzer().analyze(r);
    ASSERT_EQ(a.pii.size(), 2u);
    EXPECT_EQ(a.pii[0].kind, PiiKind::kEmail);
    EXPECT_EQ(a.pii[0].message_index, 1u);
    EXPECT_EQ(a.pii[0].field, TextField::kPart);
    EXPECT_EQ(a.pii[0].field_index, 1u);
    EXPECT_EQ(a.pii[0].offset, 9u);
    EXPECT_EQ(a.pii[0].length, 9u);
    EXPECT_EQ(a.pii[1].kind, PiiKind::kPaymentCard);
    EXPECT_EQ(a.pii[1].field, TextField::kToolArguments);
    EXPECT_EQ(a.pii[1].offset, 9u);
    EXPECT_EQ(a.privacy, PrivacyLevel::kSensitive);
    EXPECT_TRUE(a.has_pii(PiiKind::kEmail));
    EXPECT_FALSE(a.has_pii(PiiKind::kPhone));
}

TEST(PromptAnalyzer, SystemPromptAndLastUserMessage) {
    PromptAnalyzer an;
    ChatRequest r;
    r.messages.push_back(
        msg(Role::kSystem, "You are a translator. Translate everything into German."));
    r.messages.push_back(msg(Role::kUser, "Good morning, the meeting starts at nine."));
    EXPECT_EQ(an.analyze(r).task, TaskType::kTranslation);
    // An earlier turn weighs less than the last one.
    ChatRequest t;
    t.messages.push_back(msg(Role::kUser, "Write a poem about the sea."));
    t.messages.push_back(msg(Role::kAssistant, "The sea, the sea..."));
    t.messages.push_back(msg(Role::kUser, "Now write a Python function that reverses a list."));
    EXPECT_EQ(an.analyze(t).task, TaskType::kCode);
}

TEST(PromptAnalyzer, Complexity) {
    PromptAnalyzer an;
    const auto low = an.analyze(user("Hi there!"), 3);
    EXPECT_EQ(low.complexity, Complexity::kLow);
    std::string hard =
        "Design a rate limiter for a distributed API gateway. First, list the requirements. "
        "Then compare token bucket and sliding window. Next, write the code in C++. Finally, "
        "prove that your design never exceeds the limit by more than one request.\n"
        "Constraints: it must run without a central lock, must tolerate clock skew, should use "
        "at most 64 bytes per key, and must never block.\n1. What state is stored?\n"
        "2. How is it replicated?\n3. What happens on failover?\n4. How is it tested?\n";
    const auto high = an.analyze(user(hard), 2500);
    EXPECT_EQ(high.complexity, Complexity::kHigh) << high.complexity_score;
    EXPECT_GT(high.complexity_score, low.complexity_score);
}

TEST(PromptAnalyzer, Language) {
    EXPECT_EQ(detect_language("The quick brown fox jumps over the lazy dog").language, "en");
    EXPECT_EQ(detect_language("Der schnelle braune Fuchs springt über den faulen Hund").language,
              "de");
    EXPECT_EQ(
        detect_language("Je voudrais savoir pourquoi le chien ne mange pas sa soupe.").language,
        "fr");
    EXPECT_EQ(detect_language("¿Dónde está la estación de tren? Necesito un taxi.").language, "es");
    EXPECT_EQ(detect_language("Привет, как дела?").language, "ru");
    EXPECT_EQ(detect_language("東京の天気はどうですか").language, "ja");
    EXPECT_EQ(detect_language("北京今天天气很好").language, "zh");
    EXPECT_EQ(detect_language("오늘 날씨가 좋네요").language, "ko");
    EXPECT_EQ(detect_language("مرحبا كيف حالك").language, "ar");
    EXPECT_EQ(detect_language("नमस्ते, आप कैसे हैं").language, "hi");
    EXPECT_EQ(detect_language("").language, "und");
    EXPECT_EQ(detect_language("12345 !!! ???").language, "und");
    EXPECT_EQ(detect_language("Καλημέρα κόσμε").language, "und");  // Greek: not covered
}

TEST(PromptAnalyzer, ConcurrentAnalyzeIsConsistent) {
    const PromptAnalyzer an;
    const auto req = user("Summarize: mail ann@x.org or call +1 415 555 0132 about invoice 7781.");
    const auto ref = an.analyze(req);
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 2000; ++i) {
                const auto a = an.analyze(req);
                if (a.task != ref.task || a.pii.size() != ref.pii.size() ||
                    a.language != ref.language)
                    ++mismatches;
            }
        });
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(mismatches.load(), 0);
}

// ---- The labelled set ----

namespace {

struct Labelled {
    int64_t id = 0;
    std::string text, system, task, language, privacy, split;
    std::set<std::string> pii;
};

std::vector<Labelled> load_labelled() {
    const auto path =
        fs::path(SWITCHYARD_GOLDEN_DIR) / ".." / "data" / "routing" / "labelled_prompts.jsonl";
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::vector<Labelled> out;
    simdjson::ondemand::parser parser;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        simdjson::padded_string padded(line);
        auto doc = parser.iterate(padded);
        Labelled l;
        std::string_view sv;
        l.id = doc["id"].get_int64().value();
        l.task = std::string(doc["task"].get_string().value());
        l.language = std::string(doc["language"].get_string().value());
        l.privacy = std::string(doc["privacy"].get_string().value());
        for (auto k : doc["pii"].get_array())
            l.pii.insert(std::string(k.get_string().value()));
        l.text = std::string(doc["text"].get_string().value());
        if (doc["system"].get(sv) == simdjson::SUCCESS) l.system = std::string(sv);
        if (doc["split"].get(sv) == simdjson::SUCCESS) l.split = std::string(sv);
        out.push_back(std::move(l));
    }
    return out;
}

}  // namespace

TEST(PromptAnalyzer, LabelledSet) {
    const auto set = load_labelled();
    ASSERT_GE(set.size(), 120u);
    const PromptAnalyzer an;
    int task_ok = 0, lang_ok = 0, privacy_ok = 0, kinds_ok = 0;
    int pii_expected = 0, pii_missed = 0, pii_spurious = 0;
    std::map<std::string, std::pair<int, int>> per_task, per_lang;  // ok, total
    // Per split: "tune" (145) is what the cue lists were written and adjusted on; "holdout1"
    // (36) was written afterwards and scored 61 % on task before the cues were extended with
    // what it taught; "holdout2" (40) was written last and never tuned on: the honest estimate
    // of how the cues generalise. Task ok, language ok, total.
    std::map<std::string, std::array<int, 3>> per_split;
    for (const auto& l : set) {
        ChatRequest r;
        if (!l.system.empty()) r.messages.push_back(msg(Role::kSystem, l.system));
        r.messages.push_back(msg(Role::kUser, l.text));
        const auto a = an.analyze(r);
        std::set<std::string> kinds;
        for (const auto& f : a.pii)
            kinds.insert(std::string(to_string(f.kind)));
        const bool t = to_string(a.task) == l.task;
        const bool g = a.language == l.language;
        task_ok += t;
        lang_ok += g;
        privacy_ok += to_string(a.privacy) == l.privacy;
        kinds_ok += kinds == l.pii;
        per_split[l.split][0] += t;
        per_split[l.split][1] += g;
        per_split[l.split][2] += 1;
        per_task[l.task].first += t;
        per_task[l.task].second += 1;
        per_lang[l.language].first += g;
        per_lang[l.language].second += 1;
        for (const auto& k : l.pii) {
            ++pii_expected;
            if (!kinds.count(k)) {
                ++pii_missed;
                ADD_FAILURE() << "#" << l.id << " missed " << k;
            }
        }
        for (const auto& k : kinds)
            if (!l.pii.count(k)) {
                ++pii_spurious;
                std::cout << "  #" << l.id << " spurious " << k << "\n";
            }
        if (!t)
            std::cout << "  #" << l.id << " task " << to_string(a.task) << " (want " << l.task
                      << ", " << a.task_confidence << ")\n";
        if (!g)
            std::cout << "  #" << l.id << " language " << a.language << " (want " << l.language
                      << ")\n";
    }
    const double n = static_cast<double>(set.size());
    auto pct = [](double a, double b) { return 100.0 * a / b; };
    std::cout << "labelled set: " << set.size() << " prompts\n"
              << "  task      " << pct(task_ok, n) << " %\n"
              << "  language  " << pct(lang_ok, n) << " %\n"
              << "  privacy   " << pct(privacy_ok, n) << " %\n"
              << "  PII kinds " << pct(kinds_ok, n) << " % (exact set per prompt); " << pii_expected
              << " expected findings, " << pii_missed << " missed, " << pii_spurious
              << " spurious\n";
    for (const auto& [k, v] : per_split)
        std::cout << "  split " << k << " (" << v[2] << "): task " << pct(v[0], v[2])
                  << " %, language " << pct(v[1], v[2]) << " %\n";
    for (const auto& [k, v] : per_task)
        std::cout << "  task " << k << ": " << v.first << "/" << v.second << "\n";
    for (const auto& [k, v] : per_lang)
        std::cout << "  language " << k << ": " << v.first << "/" << v.second << "\n";
    // Floors: PII and privacy are exact on this set (no false negatives, no false positives
    // on the tricky negatives); task and language leave room for the genuinely ambiguous.
    EXPECT_EQ(pii_missed, 0);
    EXPECT_EQ(kinds_ok, static_cast<int>(set.size()));
    EXPECT_EQ(privacy_ok, static_cast<int>(set.size()));
    EXPECT_GE(pct(task_ok, n), 85.0);
    EXPECT_GE(pct(lang_ok, n), 90.0);
    // holdout2 scored 75 % on task and 100 % on language when first run; these floors only
    // guard against regressions.
    const auto& h = per_split["holdout2"];
    ASSERT_GT(h[2], 0);
    EXPECT_GE(pct(h[0], h[2]), 70.0);
    EXPECT_GE(pct(h[1], h[2]), 90.0);
}
