// Chat accounting: which vocabulary a model uses, and how many tokens a whole chat request
// costs the way each provider family bills it, plus the cost of a request in USD.
// Thread safety: pure functions over immutable tokenizers; call from any thread.
// Failure: none; unknown models use the documented fallback vocabulary (cl100k_base).
#pragma once

#include <cstdint>
#include <string_view>

#include "switchyard/core/chat.hpp"
#include "switchyard/tokens/tokenizer.hpp"

namespace switchyard::tokens {

// The vocabulary used when a model's name matches nothing known and the catalog sets none.
inline constexpr std::string_view kFallbackVocabulary = "cl100k_base";

// Vocabulary for a model id by name (case-insensitive): gpt-4o*, o1*, o3*, o4*, gpt-4.1* and
// gpt-5* -> o200k_base; gpt-4*, gpt-3.5*, text-embedding-3*, text-embedding-ada-002 ->
// cl100k_base; claude* -> claude; llama-3* / llama3* -> llama3; llama-2* / llama2* /
// codellama* -> llama2; mistral* / mixtral* -> mistral; anything else -> kFallbackVocabulary.
std::string_view vocabulary_for_model(std::string_view model);

// How a family frames a conversation (and so what the framing costs).
enum class ChatFamily {
    kOpenAI,     // cl100k/o200k: 3 tokens per message, +1 per name, +3 to prime the reply
    kAnthropic,  // claude: "\n\nHuman: ... \n\nAssistant:" framing (an estimate: see README)
    kLlama2,     // exact: <s>[INST] <<SYS>> ... <</SYS>> ... [/INST] answer </s> (chat_format.hpp)
    kMistral,    // exact: <s>[INST] ... [/INST] answer</s> (chat_format.hpp)
    kLlama3,     // <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>
};
ChatFamily chat_family_for_vocabulary(std::string_view vocabulary);

// Prompt tokens of `req` for a model of `family` encoded with `tokenizer`: message texts,
// names, tool calls and tool results, tool definitions (an estimate: providers do not publish
// how they render them), and images (a conservative 765 tokens each: a 1024x1024 image at
// OpenAI's high detail; the real count depends on the image size).
int64_t count_chat_prompt(const Tokenizer& tokenizer, ChatFamily family, const ChatRequest& req);

// USD price per 1M tokens -> cost in nano-dollars, rounded to the nearest.
int64_t cost_nusd(int64_t input_tokens, int64_t output_tokens, double input_per_1m_usd,
                  double output_per_1m_usd);

}  // namespace switchyard::tokens
