#include "switchyard/tokens/chat_tokens.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "switchyard/tokens/chat_format.hpp"

namespace switchyard::tokens {
namespace {

bool starts_with_ci(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

std::string_view role_name(Role role) {
    return to_string(role);
}

bool is_system(Role role) {
    return role == Role::kSystem || role == Role::kDeveloper;
}

constexpr int64_t kImageTokens = 765;

int64_t count_images(const Message& m) {
    int64_t n = 0;
    for (const auto& p : m.parts) {
        if (p.type == ContentPart::Type::kImage) n += kImageTokens;
    }
    return n;
}

// Tool calls an assistant turn made: name and arguments, as the model produced them.
int64_t count_tool_calls(const Tokenizer& t, const Message& m) {
    int64_t n = 0;
    for (const auto& c : m.tool_calls) {
        n += static_cast<int64_t>(t.count(c.name)) + static_cast<int64_t>(t.count(c.arguments)) + 3;
    }
    return n;
}

// Tool definitions, estimated from their text: name, description and JSON schema, plus a
// small framing overhead per tool and per request.
int64_t count_tools(const Tokenizer& t, const ChatRequest& req) {
    if (req.tools.empty()) return 0;
    int64_t n = 12;
    for (const auto& tool : req.tools) {
        n += 8 + static_cast<int64_t>(t.count(tool.name)) +
             static_cast<int64_t>(t.count(tool.description)) +
             static_cast<int64_t>(t.count(tool.parameters_json));
    }
    if (!req.tool_choice_json.empty()) n += static_cast<int64_t>(t.count(req.tool_choice_json));
    return n;
}

int64_t count_openai(const Tokenizer& t, const ChatRequest& req) {
    int64_t n = 3;  // every reply is primed with <|start|>assistant<|message|>
    for (const auto& m : req.messages) {
        n += 3;  // <|start|>{role}<|message|> ... <|end|>
        n += static_cast<int64_t>(t.count(role_name(m.role)));
        n += static_cast<int64_t>(t.count(m.joined_text()));
        if (!m.name.empty()) n += static_cast<int64_t>(t.count(m.name)) + 1;
        n += count_tool_calls(t, m) + count_images(m);
    }
    return n + count_tools(t, req);
}

int64_t count_anthropic(const Tokenizer& t, const ChatRequest& req) {
    std::string text;
    int64_t extra = 0;
    for (const auto& m : req.messages) {
        if (is_system(m.role)) {
            text += m.joined_text();
        } else if (m.role == Role::kAssistant) {
            text += "\n\nAssistant: ";
            text += m.joined_text();
        } else {
            text += "\n\nHuman: ";
            text += m.joined_text();
        }
        extra += count_tool_calls(t, m) + count_images(m);
    }
    text += "\n\nAssistant:";
    return static_cast<int64_t>(t.count(text)) + extra + count_tools(t, req);
}

// Llama 2 chat and Mistral instruct: the exact [INST] prompt (see chat_format.hpp); tool
// results count as user turns, developer turns as system turns.
int64_t count_inst(const Tokenizer& t, const ChatRequest& req, InstFormat format) {
    std::vector<std::string> texts;
    texts.reserve(req.messages.size());
    std::vector<ChatTurn> turns;
    turns.reserve(req.messages.size());
    int64_t extra = 0;
    for (const auto& m : req.messages) {
        texts.push_back(m.joined_text());
        const ChatRole role = is_system(m.role)            ? ChatRole::kSystem
                              : m.role == Role::kAssistant ? ChatRole::kAssistant
                                                           : ChatRole::kUser;
        turns.push_back({role, texts.back()});
        extra += count_tool_calls(t, m) + count_images(m);
    }
    return static_cast<int64_t>(count_inst_prompt(t, format, turns)) + extra + count_tools(t, req);
}

int64_t count_llama3(const Tokenizer& t, const ChatRequest& req) {
    int64_t n = 1;  // <|begin_of_text|>
    for (const auto& m : req.messages) {
        n += 3;  // <|start_header_id|> <|end_header_id|> <|eot_id|>
        n += static_cast<int64_t>(t.count(role_name(m.role)));
        n += static_cast<int64_t>(t.count("\n\n" + m.joined_text()));
        n += count_tool_calls(t, m) + count_images(m);
    }
    n += 2 + static_cast<int64_t>(t.count("assistant")) + static_cast<int64_t>(t.count("\n\n"));
    return n + count_tools(t, req);
}

}  // namespace

std::string_view vocabulary_for_model(std::string_view model) {
    // Strip a provider prefix such as "openai/" or "ollama/".
    if (auto slash = model.rfind('/'); slash != std::string_view::npos) {
        model.remove_prefix(slash + 1);
    }
    for (std::string_view p :
         {"gpt-4o", "chatgpt-4o", "o1", "o3", "o4", "gpt-4.1", "gpt-4.5", "gpt-5"}) {
        if (starts_with_ci(model, p)) return "o200k_base";
    }
    for (std::string_view p :
         {"gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002"}) {
        if (starts_with_ci(model, p)) return "cl100k_base";
    }
    if (starts_with_ci(model, "claude")) return "claude";
    for (std::string_view p : {"llama-3", "llama3", "meta-llama-3"}) {
        if (starts_with_ci(model, p)) return "llama3";
    }
    for (std::string_view p : {"llama-2", "llama2", "codellama", "meta-llama-2"}) {
        if (starts_with_ci(model, p)) return "llama2";
    }
    for (std::string_view p : {"mistral", "mixtral", "open-mistral", "open-mixtral"}) {
        if (starts_with_ci(model, p)) return "mistral";
    }
    return kFallbackVocabulary;
}

ChatFamily chat_family_for_vocabulary(std::string_view vocabulary) {
    if (vocabulary == "claude") return ChatFamily::kAnthropic;
    if (vocabulary == "llama2") return ChatFamily::kLlama2;
    if (vocabulary == "mistral") return ChatFamily::kMistral;
    if (vocabulary == "llama3") return ChatFamily::kLlama3;
    return ChatFamily::kOpenAI;
}

int64_t count_chat_prompt(const Tokenizer& tokenizer, ChatFamily family, const ChatRequest& req) {
    switch (family) {
        case ChatFamily::kOpenAI:
            return count_openai(tokenizer, req);
        case ChatFamily::kAnthropic:
            return count_anthropic(tokenizer, req);
        case ChatFamily::kLlama2:
            return count_inst(tokenizer, req, InstFormat::kLlama2Chat);
        case ChatFamily::kMistral:
            return count_inst(tokenizer, req, InstFormat::kMistralInstruct);
        case ChatFamily::kLlama3:
            return count_llama3(tokenizer, req);
    }
    return count_openai(tokenizer, req);
}

int64_t cost_nusd(int64_t input_tokens, int64_t output_tokens, double input_per_1m_usd,
                  double output_per_1m_usd) {
    // USD per 1M tokens = nano-USD per 1e-3 token: multiply by 1000 for nano-USD per token.
    const double n = static_cast<double>(input_tokens) * input_per_1m_usd * 1000.0 +
                     static_cast<double>(output_tokens) * output_per_1m_usd * 1000.0;
    return std::llround(n);
}

}  // namespace switchyard::tokens
