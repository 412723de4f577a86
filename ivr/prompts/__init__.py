"""The Mandarin prompts: text read as pinyin, spoken by espeak-ng, converted by sox, checked before they go live."""
