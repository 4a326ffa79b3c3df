// The analyser's word lists: stop words for en, de, fr, es, it, pt, nl and the task cues in
// those languages plus Russian, with an open-addressing table keyed by the word's bytes.
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "lexicon.hpp"

namespace switchyard::routing::detail {

namespace {

struct WordList {
    Cue cue;
    int8_t lang;        // LatinLang for stop words, -1 for cues
    const char* words;  // space-separated
};

constexpr WordList kLists[] = {
    // Stop words: frequent, short, and as distinctive as they come.
    {Cue::kNone, kEn,
     "the a all and of to is in that it for you with on this are be was what how can please my me "
     "i "
     "have do not from translate summarize summarise an or at by your we which there would should "
     "about they but will does "
     "why when who were been has had its these those than then into our could write give "
     "tell explain"},
    {Cue::kNone, kDe,
     "der die das und ist nicht ich ein eine zu den mit sich von auf für dem es wie bitte auch "
     "im sie wir kann werden wird oder aber was wenn noch nach bei mir mein meine dass einen "
     "diese dieser sind hat haben über uns ihr warum können ihn einem eines nur schreibe "
     "erkläre gib zum zur übersetze fasse berechne extrahiere englisch deutsch"},
    {Cue::kNone, kFr,
     "le la les et est des une un du que qui pour dans pas sur ce cette avec il elle je vous "
     "nous mais ou au aux sont être très plus mon ma mes votre comment pourquoi peux qu "
     "ces leur leurs moi toi tu ton fait faire écris explique donne traduis résume calcule extrais "
     "anglais français"},
    {Cue::kNone, kEs,
     "el la los las y es en que de del por para con una un no se lo más como pero su sus al "
     "este esta está son me mi qué cómo porque puedes hay muy también ser tiene o ella "
     "escribe explica dame cuál cuáles traduce resume calcula extrae inglés español"},
    {Cue::kNone, kIt,
     "il lo la gli le e è di che per non un una sono con del della dei nel nella questo "
     "questa come ma anche mi ti si ho ha più perché cosa puoi molto essere alla delle sul "
     "scrivi spiega dammi traduci riassumi calcola estrai inglese italiano"},
    {Cue::kNone, kPt,
     "o a os as e é de do da dos das em no na nos que para com um uma não por se mais como "
     "mas ao seu sua você isso este esta está são ser ter muito também pelo pela meu minha "
     "porque pode escreva explique traduza resuma calcule extraia inglês português"},
    {Cue::kNone, kNl,
     "de het een en is van in dat op te zijn voor met niet die er ik je we ook maar om aan "
     "als bij of uit dan nog wat hoe kan kunt naar mijn deze dit wordt worden heb heeft jij "
     "u waarom alstublieft graag schrijf leg geef vertaal bereken engels nederlands"},

    // Task cues. Several languages where the word is cheap to list.
    {Cue::kCodeWord, -1,
     "code coding function functions method class script program programming implement "
     "loop loops array arrays variable variables syntax div flexbox npm git docker framework "
     "frontend backend compile runtime "
     "implementation refactor debug bug bugs compile compiler python javascript typescript "
     "java rust golang sql regex unittest tests test stacktrace traceback "
     "exception segfault typeerror snippet repo library dockerfile kubernetes bash shell "
     "html css react django flask query database algorithm "
     "funktion programm programmiere quellcode fehlermeldung "
     "fonction programme classe "
     "código función programa "
     "codice funzione "
     "functie "
     "код кода функцию функция программу программа скрипт"},
    {Cue::kCodeKeyword, -1,
     "def return import include const let var void public private static struct fn impl "
     "elif lambda async await println printf cout std nullptr null self int main "
     "select"},
    {Cue::kMathWord, -1,
     "solve calculate compute prove proof irrational rational root roots integer "
     "integers puzzle riddle logic logical deduce perimeter périmètre perímetro perimetro "
     "umfang fläche aire área primzahl primzahlen combien cuántos cuántas quanti quante "
     "quantos quantas discount interest equation equations integral derivative "
     "probability sum "
     "percent percentage average median modulo prime primes factorial "
     "theorem lemma matrix vector polynomial sqrt log ln sin cos tan math maths "
     "arithmetic geometry algebra calculus triangle area volume ratio fraction divisible "
     "berechne löse gleichung wahrscheinlichkeit beweise "
     "calcule calculer résous équation probabilité "
     "calcula resuelve ecuación probabilidad "
     "calcola risolvi equazione "
     "bereken los vergelijking "
     "реши вычисли докажи уравнение вероятность"},
    {Cue::kReasonWord, -1,
     "why reason reasoning infer analyze "
     "analyse compare tradeoffs tradeoff pros cons evaluate justify argument hypothesis "
     "warum pourquoi perché waarom почему"},
    {Cue::kStepWord, -1,
     "step steps first second third then next finally afterwards subsequently stage phase "
     "schritt schritte zuerst dann danach schließlich "
     "étape étapes puis ensuite enfin "
     "paso pasos luego después finalmente "
     "passo passi poi quindi infine "
     "stap stappen daarna vervolgens "
     "шаг шаги затем потом"},
    {Cue::kConstraint, -1,
     "must should ensure exactly only without never avoid require requires required "
     "requirement requirements constraint constraints limit maximum minimum least most "
     "strictly mandatory "
     "muss müssen genau ohne nie darf "
     "doit doivent exactement sans jamais "
     "debe deben exactamente sin nunca "
     "deve devono esattamente senza mai "
     "moet moeten precies zonder nooit "
     "должен должна нужно без"},
    {Cue::kSummaryWord, -1,
     "summarize summarise summary summarization summarisation tldr tl recap condense "
     "synopsis gist abstract outline takeaways nutshell shorten briefly "
     "zusammenfassen zusammenfassung fasse zusammengefasst "
     "résume résumer résumé résumez synthèse "
     "resume resumir resumen resuma "
     "riassumi riassunto riassumere sintesi "
     "resuma resumo "
     "samenvatting vat samenvatten "
     "кратко резюме резюмируй перескажи суммируй"},
    {Cue::kExtractWord, -1,
     "extract extraction pull identify entities entity fields field names addresses "
     "dates amounts invoice receipt fill urls "
     "extrahiere extrahieren "
     "extrais extraire extrayez "
     "extrae extraer extraiga "
     "estrai estrarre "
     "extraia extrair "
     "haal extraheer "
     "извлеки извлечь выпиши"},
    {Cue::kJsonWord, -1, "json csv yaml xml jsonl"},
    {Cue::kFormatWord, -1,
     "respond response reply output format formatted return returns answer only "
     "antworte ausgabe format réponds sortie responde salida rispondi uscita antwoord"},
    {Cue::kTranslateWord, -1,
     "translate translation translated translating translator "
     "übersetze übersetzen übersetzung "
     "traduis traduire traduction traduisez "
     "traduce traducir traducción traduzca "
     "traduci tradurre traduzione "
     "traduza traduzir tradução "
     "vertaal vertalen vertaling "
     "переведи перевести перевод переведите"},
    {Cue::kLanguageName, -1,
     "english french german spanish italian portuguese dutch russian chinese japanese korean "
     "arabic hindi englisch französisch deutsch spanisch italienisch "
     "anglais français allemand espagnol italien "
     "inglés francés alemán español italiano "
     "inglese francese tedesco spagnolo "
     "inglês francês alemão espanhol "
     "engels frans duits spaans "
     "английский английского французский немецкий"},
    {Cue::kCreativeWord, -1,
     "poem poems poetry haiku sonnet limerick verse verses rhyme lyrics song story stories "
     "tale fairy novel fiction screenplay script character plot fable invent backstory fantasy "
     "roleplay imaginative "
     "slogan joke jokes ballad ode "
     "gedicht geschichte märchen reim lied "
     "poème conte histoire chanson "
     "poema cuento historia canción "
     "poesia racconto storia canzone "
     "poema história conto "
     "verhaal sprookje liedje "
     "стихотворение стих рассказ сказку историю песню"},
    {Cue::kGreeting, -1,
     "hi hello hey thanks thank cheers morning hallo danke bonjour merci salut hola gracias "
     "ciao grazie olá obrigado dank привет спасибо здравствуйте"},
};

constexpr SubstringCue kSubstringCues[] = {
    {"代码", Cue::kCodeWord},       {"函数", Cue::kCodeWord},        {"程序", Cue::kCodeWord},
    {"コード", Cue::kCodeWord},     {"関数", Cue::kCodeWord},        {"プログラム", Cue::kCodeWord},
    {"코드", Cue::kCodeWord},       {"함수", Cue::kCodeWord},        {"कोड", Cue::kCodeWord},
    {"फ़ंक्शन", Cue::kCodeWord},       {"برمج", Cue::kCodeWord},        {"دالة", Cue::kCodeWord},
    {"计算", Cue::kMathWord},       {"求解", Cue::kMathWord},        {"证明", Cue::kMathWord},
    {"方程", Cue::kMathWord},       {"計算", Cue::kMathWord},        {"証明", Cue::kMathWord},
    {"계산", Cue::kMathWord},       {"방정식", Cue::kMathWord},      {"हल करें", Cue::kMathWord},
    {"समीकरण", Cue::kMathWord},     {"احسب", Cue::kMathWord},        {"معادلة", Cue::kMathWord},
    {"总结", Cue::kSummaryWord},    {"摘要", Cue::kSummaryWord},     {"概括", Cue::kSummaryWord},
    {"要約", Cue::kSummaryWord},    {"まとめ", Cue::kSummaryWord},   {"요약", Cue::kSummaryWord},
    {"सारांश", Cue::kSummaryWord},   {"لخص", Cue::kSummaryWord},      {"ملخص", Cue::kSummaryWord},
    {"提取", Cue::kExtractWord},    {"抽出", Cue::kExtractWord},     {"추출", Cue::kExtractWord},
    {"निकालें", Cue::kExtractWord},   {"استخرج", Cue::kExtractWord},   {"翻译", Cue::kTranslateWord},
    {"翻訳", Cue::kTranslateWord},  {"訳して", Cue::kTranslateWord}, {"번역", Cue::kTranslateWord},
    {"अनुवाद", Cue::kTranslateWord}, {"ترجم", Cue::kTranslateWord},   {"诗", Cue::kCreativeWord},
    {"俳句", Cue::kCreativeWord},   {"故事", Cue::kCreativeWord},    {"詩", Cue::kCreativeWord},
    {"物語", Cue::kCreativeWord},   {"小説", Cue::kCreativeWord},    {"시를", Cue::kCreativeWord},
    {"이야기", Cue::kCreativeWord}, {"소설", Cue::kCreativeWord},    {"कविता", Cue::kCreativeWord},
    {"कहानी", Cue::kCreativeWord},  {"قصيدة", Cue::kCreativeWord},   {"قصة", Cue::kCreativeWord},
    {"你好", Cue::kGreeting},       {"こんにちは", Cue::kGreeting},  {"안녕", Cue::kGreeting},
    {"नमस्ते", Cue::kGreeting},       {"مرحبا", Cue::kGreeting},
};

inline uint64_t word_hash(uint64_t head, uint64_t tail, size_t n) {
    uint64_t h = (head ^ (n * 0x9E3779B97F4A7C15ull)) * 0xC2B2AE3D27D4EB4Full;
    h ^= tail * 0x165667B19E3779F9ull;
    return h ^ (h >> 29);
}

WordKey key_of(std::string_view w) {
    WordKey k;
    for (char c : w)
        k.push(static_cast<unsigned char>(c));
    return k;
}

class Lexicon {
public:
    Lexicon() {
        for (const auto& list : kLists) {
            std::string_view words = list.words;
            while (!words.empty()) {
                const size_t sp = words.find(' ');
                const std::string_view w = words.substr(0, sp);
                words = sp == std::string_view::npos ? std::string_view{} : words.substr(sp + 1);
                if (w.empty() || w.size() > kMaxWordBytes) continue;
                Slot& slot = find_or_insert(key_of(w));
                if (list.lang >= 0) slot.entry.langs |= static_cast<uint8_t>(1u << list.lang);
                if (list.cue != Cue::kNone && slot.entry.cue == Cue::kNone)
                    slot.entry.cue = list.cue;
            }
        }
    }

    const LexEntry* find(const WordKey& w) const {
        const size_t n = w.len;
        if (n == 0 || n > kMaxWordBytes) return nullptr;
        if (!(first_byte_lengths_[w.head & 0xFF] & (1u << (n - 1)))) return nullptr;
        const uint64_t head = w.head, tail = n > 8 ? w.tail : 0;
        for (size_t i = word_hash(head, tail, n) & kMask;; i = (i + 1) & kMask) {
            const Slot& s = slots_[i];
            if (s.len == 0) return nullptr;
            if (s.len == n && s.head == head && s.tail == tail &&
                (n <= 16 || std::memcmp(words_.data() + s.offset, w.bytes, n) == 0))
                return &s.entry;
        }
    }

private:
    // Under 1,000 words: 2,048 slots of 24 bytes keep the load under one half.
    static constexpr size_t kSize = 2048, kMask = kSize - 1;
    struct Slot {
        uint64_t head = 0;    // first 8 bytes, zero padded
        uint64_t tail = 0;    // last 8 bytes when longer than 8
        uint16_t offset = 0;  // into words_, for words longer than 16 bytes
        uint8_t len = 0;
        LexEntry entry;
    };
    Slot& find_or_insert(const WordKey& w) {
        const size_t n = w.len;
        const uint64_t head = w.head, tail = n > 8 ? w.tail : 0;
        for (size_t i = word_hash(head, tail, n) & kMask;; i = (i + 1) & kMask) {
            Slot& s = slots_[i];
            if (s.len == n && s.head == head && s.tail == tail &&
                (n <= 16 || std::memcmp(words_.data() + s.offset, w.bytes, n) == 0))
                return s;
            if (s.len == 0) {
                first_byte_lengths_[head & 0xFF] |= 1u << (n - 1);
                s.head = head;
                s.tail = tail;
                s.len = static_cast<uint8_t>(n);
                s.offset = static_cast<uint16_t>(words_.size());
                words_.append(w.bytes, n);
                if (++count_ * 2 > kSize) std::abort();  // the word lists outgrew the table
                return s;
            }
        }
    }
    std::array<Slot, kSize> slots_{};
    // Bit n-1 of [b]: some word of n bytes starts with byte b. A 1 KiB pre-filter that stays
    // in L1 and turns most misses away before the hash table is touched.
    std::array<uint32_t, 256> first_byte_lengths_{};
    std::string words_;
    size_t count_ = 0;
};

const Lexicon& lexicon() {
    static const Lexicon lx;  // built on first use (the PromptAnalyzer constructor), then read-only
    return lx;
}

}  // namespace

const LexEntry* lex_lookup(const WordKey& word) {
    return lexicon().find(word);
}

const LexEntry* lex_lookup(std::string_view lowered_word) {
    if (lowered_word.size() > kMaxWordBytes) return nullptr;
    return lexicon().find(key_of(lowered_word));
}

std::span<const SubstringCue> substring_cues() {
    return kSubstringCues;
}

}  // namespace switchyard::routing::detail
