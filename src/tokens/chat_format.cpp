// [INST]-family chat formats: see include/switchyard/tokens/chat_format.hpp for the templates.
#include "switchyard/tokens/chat_format.hpp"

#include <algorithm>
#include <optional>

#include "sentencepiece_utf8.hpp"

namespace switchyard::tokens {
namespace {

constexpr std::string_view kTurnSeparator = "\n\n";

struct Turn {
    ChatRole role;
    std::string text;
};

// Per-thread working set, reused so counting allocates nothing in steady state.
struct ChatScratch {
    std::string system;
    std::vector<Turn> turns;  // normalized: user, assistant, user, ...
    size_t n_turns = 0;
    bool has_system = false;
    std::string piece;
    std::string combined;  // Llama 2: system block + first user text, stripped together
};

thread_local ChatScratch t_chat;

// Python's str.isspace() for a code point.
bool is_py_space(char32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python's str.strip() on UTF-8 text.
std::string_view py_strip(std::string_view s) {
    auto decode_at = [&](size_t i, char32_t& cp) {
        const auto* p = reinterpret_cast<const unsigned char*>(s.data());
        return sentencepiece::decode_utf8(p + i, p + s.size(), cp);
    };
    size_t begin = 0;
    while (begin < s.size()) {
        char32_t cp;
        size_t n = decode_at(begin, cp);
        if (!is_py_space(cp)) break;
        begin += n;
    }
    size_t end = s.size();
    while (end > begin) {
        // Start of the last code point: back over up to three continuation bytes.
        size_t start = end - 1;
        while (start > begin && end - start < 4 &&
               (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
            --start;
        }
        char32_t cp;
        if (decode_at(start, cp) != end - start || !is_py_space(cp)) break;
        end = start;
    }
    return s.substr(begin, end - begin);
}

// Fills t_chat.system and t_chat.turns per the header's normalization.
void normalize(std::span<const ChatTurn> turns) {
    ChatScratch& c = t_chat;
    c.system.clear();
    c.n_turns = 0;
    bool has_system = false;
    auto append = [&](ChatRole role, std::string_view text) {
        if (c.n_turns > 0 && c.turns[c.n_turns - 1].role == role) {
            c.turns[c.n_turns - 1].text.append(kTurnSeparator).append(text);
            return;
        }
        if (c.n_turns == c.turns.size()) c.turns.emplace_back();
        c.turns[c.n_turns].role = role;
        c.turns[c.n_turns].text.assign(text);
        ++c.n_turns;
    };
    for (const ChatTurn& t : turns) {
        if (t.role == ChatRole::kSystem) {
            if (has_system) c.system.append(kTurnSeparator);
            c.system.append(t.text);
            has_system = true;
            continue;
        }
        if (c.n_turns == 0 && t.role == ChatRole::kAssistant) append(ChatRole::kUser, {});
        append(t.role, t.text);
    }
    if (c.n_turns == 0 && has_system) append(ChatRole::kUser, {});
    c.has_system = has_system;
}

// Calls emit(kind, text) for each piece of the prompt.
template <class Emit>
void for_each_piece(InstFormat format, std::span<const ChatTurn> turns, Emit&& emit) {
    normalize(turns);
    ChatScratch& c = t_chat;
    if (c.n_turns == 0) return;
    std::string& piece = c.piece;
    if (format == InstFormat::kLlama2Chat) {
        for (size_t i = 0; i < c.n_turns; i += 2) {
            std::string_view user = c.turns[i].text;
            if (i == 0 && c.has_system) {
                // strip() applies to the system block and the first user text together.
                c.combined.assign("<<SYS>>\n").append(c.system).append("\n<</SYS>>\n\n");
                c.combined.append(user);
                user = c.combined;
            }
            piece.assign("[INST] ").append(py_strip(user)).append(" [/INST]");
            const bool answered = i + 1 < c.n_turns;
            if (answered) piece.append(" ").append(py_strip(c.turns[i + 1].text)).append(" ");
            emit(PromptPiece::Kind::kBos, std::string_view{});
            emit(PromptPiece::Kind::kText, std::string_view(piece));
            if (answered) emit(PromptPiece::Kind::kEos, std::string_view{});
        }
        return;
    }
    emit(PromptPiece::Kind::kBos, std::string_view{});
    for (size_t i = 0; i < c.n_turns; ++i) {
        if (c.turns[i].role == ChatRole::kUser) {
            piece.assign("[INST] ");
            if (i == 0 && c.has_system) piece.append(c.system).append(kTurnSeparator);
            piece.append(c.turns[i].text).append(" [/INST]");
            emit(PromptPiece::Kind::kText, std::string_view(piece));
        } else {
            emit(PromptPiece::Kind::kText, std::string_view(c.turns[i].text));
            emit(PromptPiece::Kind::kEos, std::string_view{});
        }
    }
}

}  // namespace

std::vector<PromptPiece> render_inst_prompt(InstFormat format, std::span<const ChatTurn> turns) {
    std::vector<PromptPiece> pieces;
    for_each_piece(format, turns, [&](PromptPiece::Kind kind, std::string_view text) {
        pieces.push_back({kind, std::string(text)});
    });
    return pieces;
}

void encode_inst_prompt(const Tokenizer& tokenizer, InstFormat format,
                        std::span<const ChatTurn> turns, std::vector<TokenId>& out) {
    const std::optional<TokenId> bos = tokenizer.special_token("<s>");
    const std::optional<TokenId> eos = tokenizer.special_token("</s>");
    for_each_piece(format, turns, [&](PromptPiece::Kind kind, std::string_view text) {
        switch (kind) {
            case PromptPiece::Kind::kBos:
                if (bos) out.push_back(*bos);
                break;
            case PromptPiece::Kind::kEos:
                if (eos) out.push_back(*eos);
                break;
            case PromptPiece::Kind::kText:
                tokenizer.encode(text, out);
                break;
        }
    });
}

size_t count_inst_prompt(const Tokenizer& tokenizer, InstFormat format,
                         std::span<const ChatTurn> turns) {
    size_t n = 0;
    for_each_piece(format, turns, [&](PromptPiece::Kind kind, std::string_view text) {
        n += kind == PromptPiece::Kind::kText ? tokenizer.count(text) : 1;
    });
    return n;
}

}  // namespace switchyard::tokens
