// Router: the seed's four-model catalog and default policy on real prompts (through the real
// PromptAnalyzer), then hand-built analyses for each hard constraint (context window with exact
// counting only when the cheap bound does not fit, tools, the key's allow-list, open circuits,
// the concurrency cap, privacy), the live statistics moving the order, route weights, and
// the explicit-model chain.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/routing/prompt_analyzer.hpp"
#include "switchyard/routing/router.hpp"

using namespace switchyard;
using namespace switchyard::routing;

namespace {

constexpr size_t kGpt4 = 0;
constexpr size_t kClaude = 1;
constexpr size_t kLlama2 = 2;
constexpr size_t kMistral = 3;

uint32_t caps(std::initializer_list<Capability> list) {
    uint32_t bits = 0;
    for (const Capability c : list)
        bits |= capability_bit(c);
    return bits;
}

ModelProfile model(std::string name, bool local, int64_t window, double in, double out,
                   uint32_t capabilities) {
    ModelProfile m;
    m.name = std::move(name);
    m.local = local;
    m.context_window = window;
    m.input_per_1m_usd = in;
    m.output_per_1m_usd = out;
    m.capabilities = capabilities;
    return m;
}

// The seed catalog (examples/switchyard.yaml).
std::vector<ModelProfile> seed_models() {
    using C = Capability;
    return {
        model("gpt-4-turbo", false, 128000, 30, 60,
              caps({C::kChat, C::kCode, C::kReasoning, C::kTools, C::kJson, C::kVision})),
        model("claude-3-5-sonnet", false, 200000, 3, 15,
              caps({C::kChat, C::kCode, C::kReasoning, C::kTools, C::kVision})),
        model("llama-2", true, 4096, 0, 0, caps({C::kChat, C::kPrivate})),
        model("mistral", true, 8192, 0, 0, caps({C::kChat, C::kFast, C::kPrivate})),
    };
}

// The seed's default policy.
RouterOptions seed_options() {
    RouterOptions o;
    PolicyRule privacy;
    privacy.name = "privacy";
    privacy.min_privacy = PrivacyLevel::kPersonal;
    privacy.prefer = {kLlama2};
    privacy.local_only = true;
    PolicyRule code;
    code.name = "code-and-reasoning";
    code.tasks = task_bit(TaskType::kCode) | task_bit(TaskType::kReasoning);
    code.prefer = {kGpt4};
    PolicyRule fast;
    fast.name = "short-and-fast";
    fast.max_prompt_tokens = 256;
    fast.max_complexity = Complexity::kLow;
    fast.prefer = {kMistral};
    PolicyRule general;
    general.name = "general";
    general.prefer = {kClaude};
    o.policy = {privacy, code, fast, general};
    return o;
}

Router seed_router() {
    return Router(seed_models(), seed_options());
}

// Counts how often the router asks; exact counts per model index.
class FakeTokens : public PromptTokens {
public:
    FakeTokens(int64_t bound, std::vector<int64_t> exact)
        : bound_(bound), exact_(std::move(exact)) {}
    int64_t for_model(size_t index) override {
        counted.push_back(index);
        return exact_.at(index);
    }
    int64_t upper_bound() override {
        ++bound_calls;
        return bound_;
    }
    std::vector<size_t> counted;
    int bound_calls = 0;

private:
    int64_t bound_;
    std::vector<int64_t> exact_;
};

ChatRequest user_request(std::string text) {
    ChatRequest r;
    r.model = "auto";
    Message m;
    m.role = Role::kUser;
    m.text = std::move(text);
    r.messages.push_back(std::move(m));
    return r;
}

std::vector<std::string> names(const Router& router, const RouteDecision& d) {
    std::vector<std::string> out;
    for (const auto& r : d.ranked)
        out.push_back(router.models()[r.model].name);
    return out;
}

std::string reason_for(const RouteDecision& d, size_t model) {
    for (const auto& r : d.rejected) {
        if (r.model == model) return r.reason;
    }
    return "(not rejected)";
}

PromptAnalysis analysis(TaskType task, Complexity complexity = Complexity::kMedium,
                        int64_t prompt_tokens = 1000) {
    PromptAnalysis a;
    a.task = task;
    a.complexity = complexity;
    a.prompt_tokens = prompt_tokens;
    a.prompt_tokens_exact = true;
    return a;
}

RouteProfile no_policy() {
    RouteProfile r;
    r.use_policy = false;
    return r;
}

bool header_safe(std::string_view s) {
    for (const char c : s) {
        if (c < ' ' || c > '~' || c == ',') return false;
    }
    return !s.empty();
}

// ---- names and defaults ----

TEST(RouterNames, ParseTheConfigWords) {
    EXPECT_EQ(parse_capability("tools"), Capability::kTools);
    EXPECT_EQ(parse_capability("embeddings"), Capability::kEmbeddings);
    EXPECT_EQ(parse_capability("private"), Capability::kPrivate);
    EXPECT_EQ(parse_capability("Tools"), std::nullopt);
    EXPECT_EQ(parse_capability("telepathy"), std::nullopt);
    for (int c = 0; c < kCapabilityCount; ++c) {
        const auto cap = static_cast<Capability>(c);
        EXPECT_EQ(parse_capability(to_string(cap)), cap);
    }
    EXPECT_EQ(parse_task_type("summarization"), TaskType::kSummarization);
    EXPECT_EQ(parse_task_type("code"), TaskType::kCode);
    EXPECT_EQ(parse_task_type("summarisation"), std::nullopt);
    EXPECT_EQ(parse_complexity("high"), Complexity::kHigh);
    EXPECT_EQ(parse_complexity("extreme"), std::nullopt);
    EXPECT_EQ(parse_privacy_level("personal"), PrivacyLevel::kPersonal);
    EXPECT_EQ(parse_privacy_level("secret"), PrivacyLevel::kSecret);
    EXPECT_EQ(parse_privacy_level("public"), std::nullopt);
}

TEST(RouterDefaults, QualityFollowsCapabilities) {
    const auto models = seed_models();
    EXPECT_FLOAT_EQ(default_quality(models[kGpt4].capabilities, TaskType::kCode), 0.8f);
    EXPECT_FLOAT_EQ(default_quality(models[kGpt4].capabilities, TaskType::kExtraction), 0.8f);
    EXPECT_FLOAT_EQ(default_quality(models[kClaude].capabilities, TaskType::kExtraction), 0.6f);
    EXPECT_FLOAT_EQ(default_quality(models[kLlama2].capabilities, TaskType::kReasoning), 0.6f);
    EXPECT_FLOAT_EQ(default_quality(models[kLlama2].capabilities, TaskType::kChat), 0.8f);
    EXPECT_FLOAT_EQ(default_quality(capability_bit(Capability::kEmbeddings), TaskType::kChat),
                    0.3f);

    // Configured qualities are kept; unset ones are derived.
    auto custom = seed_models();
    custom[kLlama2].quality[static_cast<size_t>(TaskType::kCode)] = 0.95f;
    const Router router(std::move(custom), {});
    const auto& llama = router.models()[kLlama2];
    EXPECT_FLOAT_EQ(llama.quality[static_cast<size_t>(TaskType::kCode)], 0.95f);
    EXPECT_FLOAT_EQ(llama.quality[static_cast<size_t>(TaskType::kReasoning)], 0.6f);
}

// ---- the seed policy on real prompts ----

class SeedPolicy : public ::testing::Test {
protected:
    RouteDecision route(const ChatRequest& req, int64_t completion_tokens = 512) {
        a_ = analyzer_.analyze(req);
        RouteQuery q;
        q.analysis = &a_;
        q.completion_tokens = completion_tokens;
        return router_.rank(RouteProfile{}, q);
    }

    PromptAnalyzer analyzer_;
    Router router_ = seed_router();
    PromptAnalysis a_;
};

TEST_F(SeedPolicy, CodePromptGoesToGpt4) {
    const auto d = route(user_request(
        "Fix the bug in this Python function, it raises an IndexError on an empty list:\n"
        "```python\n"
        "def last(items):\n"
        "    return items[len(items)]\n"
        "```\n"));
    ASSERT_EQ(a_.task, TaskType::kCode);
    ASSERT_EQ(d.ranked.size(), 4u);
    EXPECT_EQ(names(router_, d).front(), "gpt-4-turbo");
    EXPECT_TRUE(d.ranked.front().preferred);
    EXPECT_EQ(d.rule, "code-and-reasoning");
    EXPECT_EQ(d.reason, "policy code-and-reasoning");
    EXPECT_FALSE(d.local_only);
    EXPECT_TRUE(d.rejected.empty());
}

TEST_F(SeedPolicy, EmailAddressKeepsThePromptLocal) {
    const auto d =
        route(user_request("Write a short, friendly reply to jane.doe@example.com telling her that "
                           "the team meeting moved to Thursday at 10."));
    ASSERT_EQ(a_.privacy, PrivacyLevel::kPersonal);
    EXPECT_EQ(names(router_, d), (std::vector<std::string>{"llama-2", "mistral"}));
    ASSERT_EQ(d.rejected.size(), 2u);
    EXPECT_EQ(reason_for(d, kGpt4), "remote model; prompt privacy personal");
    EXPECT_EQ(reason_for(d, kClaude), "remote model; prompt privacy personal");
    EXPECT_TRUE(d.local_only);
    EXPECT_EQ(d.rule, "privacy");
    EXPECT_EQ(d.reason, "policy privacy");
}

TEST_F(SeedPolicy, ShortGreetingGoesToTheFastLocalModel) {
    const auto d = route(user_request("Hi there! How are you today?"));
    ASSERT_EQ(a_.complexity, Complexity::kLow);
    ASSERT_EQ(d.ranked.size(), 4u);
    EXPECT_EQ(names(router_, d).front(), "mistral");
    EXPECT_EQ(d.reason, "policy short-and-fast");
}

TEST_F(SeedPolicy, LongSummaryGoesToClaude) {
    std::string text = "Summarize the following meeting notes in five bullet points:\n\n";
    const std::string paragraph =
        "The city council met on Tuesday to discuss the new public transport plan. Members "
        "debated the cost of extending the tram line to the northern districts, which would "
        "serve many thousands of residents. Supporters argued that the extension would reduce "
        "car traffic and emissions, while critics pointed to the budget deficit and the "
        "disruption caused by two years of construction. After four hours the council voted "
        "to commission a detailed feasibility study.\n";
    while (text.size() < 6000)
        text += paragraph;
    const auto d = route(user_request(text));
    ASSERT_EQ(a_.task, TaskType::kSummarization);
    ASSERT_GT(a_.prompt_tokens, 256);
    ASSERT_EQ(d.ranked.size(), 4u);  // ~1,500 tokens + 512 fit even llama-2's 4,096
    EXPECT_EQ(names(router_, d).front(), "claude-3-5-sonnet");
    EXPECT_EQ(d.rule, "general");
    EXPECT_EQ(d.reason, "policy general");
}

// ---- hard constraints ----

TEST(RouterContext, CountsOnlyWhenTheBoundDoesNotFit) {
    const Router router = seed_router();
    const auto a = analysis(TaskType::kChat, Complexity::kMedium, 900);
    RouteQuery q;
    q.analysis = &a;
    q.completion_tokens = 1024;

    // Bound 3,000 + 1,024 fits every window: nothing is counted.
    FakeTokens small(3000, {900, 900, 900, 900});
    q.prompt_tokens = &small;
    auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(d.ranked.size(), 4u);
    EXPECT_TRUE(small.counted.empty());
    EXPECT_EQ(small.bound_calls, 1);

    // Bound 7,900: too big for llama-2 (4,096) and mistral (8,192) on its face; both are
    // counted exactly. llama-2's prompt is 4,186 tokens in its own vocabulary (rejected),
    // mistral's 3,950 (fits).
    FakeTokens large(7900, {3900, 3800, 4186, 3950});
    q.prompt_tokens = &large;
    d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(large.counted, (std::vector<size_t>{kLlama2, kMistral}));
    EXPECT_EQ(large.bound_calls, 1);
    EXPECT_EQ(names(router, d),
              (std::vector<std::string>{"claude-3-5-sonnet", "mistral", "gpt-4-turbo"}));
    EXPECT_EQ(reason_for(d, kLlama2), "context window 4096 < 5210 tokens");

    // An answer allowance that fills the window rejects without counting.
    FakeTokens any(7900, {3900, 3800, 10, 3950});
    q.prompt_tokens = &any;
    q.completion_tokens = 4096;
    d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(any.counted, (std::vector<size_t>{kMistral}));
    EXPECT_EQ(reason_for(d, kLlama2), "context window 4096 < 4097 tokens");
    EXPECT_EQ(d.ranked.size(), 3u);
}

TEST(RouterContext, WithoutACounterTheAnalysisCountIsUsed) {
    const Router router = seed_router();
    const auto a = analysis(TaskType::kChat, Complexity::kMedium, 7000);
    RouteQuery q;
    q.analysis = &a;
    q.completion_tokens = 500;
    const auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(reason_for(d, kLlama2), "context window 4096 < 7500 tokens");
    EXPECT_EQ(reason_for(d, kMistral), "(not rejected)");
}

TEST(RouterConstraints, ToolsAndVisionNeedCapableModels) {
    const Router router = seed_router();
    auto a = analysis(TaskType::kChat);
    a.needs_tools = true;
    RouteQuery q;
    q.analysis = &a;
    auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"claude-3-5-sonnet", "gpt-4-turbo"}));
    EXPECT_EQ(reason_for(d, kLlama2), "lacks capability tools");
    EXPECT_EQ(reason_for(d, kMistral), "lacks capability tools");

    a.needs_tools = false;
    a.needs_vision = true;
    d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(d.ranked.size(), 2u);
    EXPECT_EQ(reason_for(d, kMistral), "lacks capability vision");
}

TEST(RouterConstraints, KeyAllowListDropsModels) {
    const Router router = seed_router();
    const auto a = analysis(TaskType::kCode);
    const std::vector<uint8_t> allowed = {0, 1, 1, 0};
    RouteQuery q;
    q.analysis = &a;
    q.allowed = allowed;
    const auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"claude-3-5-sonnet", "llama-2"}));
    EXPECT_EQ(reason_for(d, kGpt4), "not allowed for this API key");
    EXPECT_EQ(reason_for(d, kMistral), "not allowed for this API key");
    // The policy's favourite is gone, so the reason is the score.
    EXPECT_EQ(d.rule, "code-and-reasoning");
    EXPECT_EQ(d.reason, "score over policy code-and-reasoning");
}

TEST(RouterConstraints, OpenCircuitAndConcurrencyCap) {
    auto models = seed_models();
    models[kMistral].max_concurrency = 2;
    const Router router(std::move(models), seed_options());
    const auto a = analysis(TaskType::kChat);
    std::vector<ModelLive> live(4);
    live[kClaude].available = false;
    live[kMistral].in_flight = 2;
    RouteQuery q;
    q.analysis = &a;
    q.live = live;
    auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"llama-2", "gpt-4-turbo"}));
    EXPECT_EQ(reason_for(d, kClaude), "circuit open");
    EXPECT_EQ(reason_for(d, kMistral), "at max concurrency 2");
    EXPECT_EQ(d.reason, "score over policy general");  // general prefers claude, which is out

    // One slot free: mistral is back, with half its load counted against it.
    live[kMistral].in_flight = 1;
    d = router.rank(RouteProfile{}, q);
    ASSERT_EQ(d.ranked.size(), 3u);
    for (const auto& r : d.ranked) {
        if (r.model == kMistral) {
            EXPECT_DOUBLE_EQ(r.parts.load, -0.2 * 0.5);
        }
    }
}

TEST(RouterConstraints, EmbeddingModelsAreNotChatModels) {
    auto models = seed_models();
    models.push_back(
        model("text-embedding-3-small", false, 8191, 0.02, 0, caps({Capability::kEmbeddings})));
    const Router router(std::move(models), seed_options());
    const auto a = analysis(TaskType::kChat);
    RouteQuery q;
    q.analysis = &a;
    const auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(d.ranked.size(), 4u);
    EXPECT_EQ(reason_for(d, 4), "not a chat model");
}

TEST(RouterConstraints, LocalOnlyRouteAndPrivacyFallback) {
    const Router router = seed_router();
    auto a = analysis(TaskType::kCode);
    RouteQuery q;
    q.analysis = &a;
    RouteProfile local;
    local.name = "route/local";
    local.local_only = true;
    auto d = router.rank(local, q);
    EXPECT_EQ(d.ranked.size(), 2u);
    EXPECT_EQ(reason_for(d, kGpt4), "remote model; route is local-only");
    EXPECT_TRUE(d.local_only);

    // A secret in a prompt too long for llama-2: the privacy rule's favourite is out, so the
    // reason says why only mistral is left.
    a = analysis(TaskType::kChat, Complexity::kMedium, 5000);
    a.privacy = PrivacyLevel::kSecret;
    d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"mistral"}));
    EXPECT_EQ(reason_for(d, kClaude), "remote model; prompt privacy secret");
    EXPECT_EQ(d.reason, "privacy secret: local only");

    // Below local_only_at, remote models stay in.
    RouterOptions o = seed_options();
    o.policy.clear();
    o.local_only_at = PrivacyLevel::kSensitive;
    const Router lenient(seed_models(), o);
    a = analysis(TaskType::kChat);
    a.privacy = PrivacyLevel::kPersonal;
    d = lenient.rank(RouteProfile{}, q);
    EXPECT_EQ(d.ranked.size(), 4u);
    EXPECT_FALSE(d.local_only);
}

// ---- scores without a policy ----

TEST(RouterScore, ErrorRateMovesTheOrder) {
    const Router router = seed_router();
    const auto a = analysis(TaskType::kChat);
    std::vector<ModelLive> live(4);
    RouteQuery q;
    q.analysis = &a;
    q.live = live;
    // Chat quality is equal; the free local models lead, ties in catalog order.
    auto d = router.rank(no_policy(), q);
    EXPECT_EQ(names(router, d),
              (std::vector<std::string>{"llama-2", "mistral", "claude-3-5-sonnet", "gpt-4-turbo"}));
    EXPECT_EQ(d.rule, "");
    EXPECT_EQ(d.reason, "score");

    live[kLlama2].error_rate = 0.5;
    d = router.rank(no_policy(), q);
    EXPECT_EQ(names(router, d).front(), "mistral");
    EXPECT_EQ(names(router, d).back(), "llama-2");
    EXPECT_DOUBLE_EQ(d.ranked.back().parts.errors, -0.5);
}

TEST(RouterScore, LatencyMovesTheOrder) {
    const Router router = seed_router();
    const auto a = analysis(TaskType::kChat);
    std::vector<ModelLive> live(4);
    live[kLlama2].total_ms = 9000;  // 0.1 latency score
    live[kMistral].total_ms = 400;  // 0.96
    RouteQuery q;
    q.analysis = &a;
    q.live = live;
    const auto d = router.rank(no_policy(), q);
    ASSERT_EQ(d.ranked.size(), 4u);
    EXPECT_EQ(names(router, d).front(), "mistral");
    EXPECT_NEAR(d.ranked.front().parts.latency, 0.2 * 0.96, 1e-12);
    // Without samples llama-2 led on the catalog-order tie; slow, it is second.
    EXPECT_EQ(names(router, d)[1], "llama-2");
    EXPECT_NEAR(d.ranked[1].parts.latency, 0.2 * 0.1, 1e-12);
    // No samples yet: half marks.
    EXPECT_NEAR(d.ranked[2].parts.latency, 0.2 * 0.5, 1e-12);
}

TEST(RouterScore, CheapRouteWeightsPutTheCheapestFirst) {
    auto models = seed_models();
    models[kGpt4].quality[static_cast<size_t>(TaskType::kCode)] = 0.95f;
    const Router router(std::move(models), seed_options());
    const auto a = analysis(TaskType::kCode, Complexity::kHigh);
    RouteQuery q;
    q.analysis = &a;

    // Quality-led: the strongest code model leads on a hard code task.
    auto d = router.rank(no_policy(), q);
    EXPECT_EQ(names(router, d).front(), "gpt-4-turbo");

    RouteProfile cheap;
    cheap.name = "route/cheap";
    cheap.use_policy = false;
    cheap.weights.quality = 0.2;
    cheap.weights.cost = 1.0;
    d = router.rank(cheap, q);
    EXPECT_EQ(names(router, d),
              (std::vector<std::string>{"llama-2", "mistral", "claude-3-5-sonnet", "gpt-4-turbo"}));
    EXPECT_DOUBLE_EQ(d.ranked.front().parts.cost, 1.0);
    EXPECT_DOUBLE_EQ(d.ranked.back().parts.cost, 0.0);

    // Restricted to the remote pair, the cheaper one still leads.
    cheap.models = {kGpt4, kClaude};
    d = router.rank(cheap, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"claude-3-5-sonnet", "gpt-4-turbo"}));
}

TEST(RouterScore, PolicyBonusFollowsPreferenceOrder) {
    RouterOptions o;
    PolicyRule rule;
    rule.name = "locals, then claude\nX";  // not header-safe as written
    rule.prefer = {kMistral, kLlama2, kClaude};
    o.policy = {rule};
    const Router router(seed_models(), o);
    const auto a = analysis(TaskType::kChat);
    RouteQuery q;
    q.analysis = &a;
    const auto d = router.rank(RouteProfile{}, q);
    EXPECT_EQ(names(router, d),
              (std::vector<std::string>{"mistral", "llama-2", "claude-3-5-sonnet", "gpt-4-turbo"}));
    EXPECT_NEAR(d.ranked[0].parts.policy, 1.0, 1e-12);
    EXPECT_NEAR(d.ranked[1].parts.policy, 0.9, 1e-12);
    EXPECT_NEAR(d.ranked[2].parts.policy, 0.8, 1e-12);
    EXPECT_FALSE(d.ranked[3].preferred);
    EXPECT_TRUE(header_safe(d.reason)) << d.reason;
    EXPECT_EQ(d.reason.rfind("policy ", 0), 0u);
}

TEST(RouterScore, ReasonsAreHeaderSafe) {
    const Router router = seed_router();
    for (int p = 0; p < 4; ++p) {
        for (int t = 0; t < kTaskTypeCount; ++t) {
            auto a = analysis(static_cast<TaskType>(t), Complexity::kLow, 100 + 3000 * p);
            a.privacy = static_cast<PrivacyLevel>(p);
            RouteQuery q;
            q.analysis = &a;
            q.completion_tokens = 1000;
            const auto d = router.rank(RouteProfile{}, q);
            EXPECT_TRUE(header_safe(d.reason)) << d.reason;
            for (const auto& r : d.rejected)
                EXPECT_TRUE(header_safe(r.reason)) << r.reason;
        }
    }
}

// ---- chain for an explicitly named model ----

TEST(RouterChain, KeepsOrderAndFiltersFallbacks) {
    const Router router = seed_router();
    auto a = analysis(TaskType::kChat, Complexity::kMedium, 5000);
    a.privacy = PrivacyLevel::kPersonal;
    std::vector<ModelLive> live(4);
    live[kGpt4].available = false;
    RouteQuery q;
    q.analysis = &a;
    q.completion_tokens = 500;
    q.live = live;
    const std::vector<size_t> ordered = {kGpt4, kClaude, kLlama2, kMistral};

    // The named model stays even with its circuit open and PII in the prompt (the caller
    // asked for it); claude is dropped for privacy, llama-2 for its window.
    auto d = router.chain(ordered, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"gpt-4-turbo", "mistral"}));
    EXPECT_EQ(reason_for(d, kClaude), "remote model; prompt privacy personal");
    EXPECT_EQ(reason_for(d, kLlama2), "context window 4096 < 5500 tokens");
    EXPECT_EQ(d.reason, "requested");
    EXPECT_TRUE(d.local_only);

    // Without PII the remote fallback is kept, in the configured order (not by score).
    a.privacy = PrivacyLevel::kNone;
    d = router.chain(ordered, q);
    EXPECT_EQ(names(router, d),
              (std::vector<std::string>{"gpt-4-turbo", "claude-3-5-sonnet", "mistral"}));

    // The key may not use the named model, and it cannot take tools: both drop it.
    const std::vector<uint8_t> allowed = {0, 1, 1, 1};
    q.allowed = allowed;
    d = router.chain(ordered, q);
    EXPECT_EQ(names(router, d).front(), "claude-3-5-sonnet");
    EXPECT_EQ(reason_for(d, kGpt4), "not allowed for this API key");
    EXPECT_EQ(d.reason, "fallback");

    q.allowed = {};
    a.needs_tools = true;
    const std::vector<size_t> local_first = {kMistral, kClaude};
    d = router.chain(local_first, q);
    EXPECT_EQ(names(router, d), (std::vector<std::string>{"claude-3-5-sonnet"}));
    EXPECT_EQ(reason_for(d, kMistral), "lacks capability tools");
}

TEST(RouterCheck, ExplainsOneModel) {
    const Router router = seed_router();
    const auto a = analysis(TaskType::kChat, Complexity::kMedium, 4000);
    RouteQuery q;
    q.analysis = &a;
    q.completion_tokens = 200;
    EXPECT_EQ(router.check(kGpt4, q, false), std::nullopt);
    EXPECT_EQ(router.check(kGpt4, q, true), "remote model; route is local-only");
    EXPECT_EQ(router.check(kLlama2, q, true), "context window 4096 < 4200 tokens");
}

TEST(RouterThreads, ConcurrentRanksAgreeWithOneThread) {
    const Router router = seed_router();
    std::vector<PromptAnalysis> analyses;
    for (int t = 0; t < kTaskTypeCount; ++t) {
        for (int p = 0; p < 4; ++p) {
            auto a =
                analysis(static_cast<TaskType>(t), static_cast<Complexity>(p % 3), 50 + 2000 * p);
            a.privacy = static_cast<PrivacyLevel>(p);
            analyses.push_back(a);
        }
    }
    auto first_of = [&](const PromptAnalysis& a) {
        RouteQuery q;
        q.analysis = &a;
        q.completion_tokens = 1000;
        const auto d = router.rank(RouteProfile{}, q);
        return d.ranked.empty() ? size_t{99} : d.ranked.front().model;
    };
    std::vector<size_t> expected;
    for (const auto& a : analyses)
        expected.push_back(first_of(a));
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int round = 0; round < 200; ++round) {
                for (size_t k = 0; k < analyses.size(); ++k) {
                    if (first_of(analyses[k]) != expected[k]) ++mismatches;
                }
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
