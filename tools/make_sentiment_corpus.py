#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes examples/data/reviews.tsv: a small synthetic corpus of short product reviews for train_sentiment.

Each line is `label<TAB>text` with label `pos` or `neg`; lines starting with `#` are comments. Half of
the reviews are Chinese, half English, all built from the templates below (nothing is scraped or
copied from a real corpus). The Chinese reviews use the grading words 优 (excellent), 良 (good) and
差 (poor) often, because the example follows what training does to their embedding vectors: 优 and
良 only ever appear in positive reviews and 差 only in negative ones.

train_sentiment tokenises English by whitespace (lower-cased, punctuation dropped) and makes every CJK
character its own token, so 优, 良 and 差 are single tokens wherever they appear.

Deterministic: the standard library's random.Random with a fixed seed, no other dependencies.
Usage: python3 tools/make_sentiment_corpus.py [output path]
"""

import os
import random
import sys

SEED = 20240614
PER_CLASS_AND_LANGUAGE = 120  # 480 reviews in all

ZH_SUBJECTS = ["这款手机", "这家餐厅", "这本书", "这部电影", "这个酒店", "快递", "客服", "这双鞋", "这台电脑",
               "这门课程", "这个耳机", "这家店"]
ZH_ASPECTS = ["质量", "服务", "做工", "口碑", "评分", "品质", "体验", "包装", "性价比", "态度"]
ZH_POSITIVE = ["优", "良", "优良", "优秀", "很优秀", "良好", "非常良好", "优质", "评为优", "评为良", "精良",
               "很好", "非常棒", "让人满意", "不错", "值得推荐"]
ZH_NEGATIVE = ["差", "很差", "太差了", "极差", "非常差", "评为差", "比较差", "很糟糕", "让人失望", "不值得买",
               "很一般而且差", "太烂了"]
ZH_POSITIVE_TAILS = ["，会再买", "，推荐给朋友", "，五星", "，下次还来", "", ""]
ZH_NEGATIVE_TAILS = ["，不会再买", "，一星", "，要退货", "，再也不来了", "", ""]
ZH_NEUTRAL_OPENERS = ["总的来说", "说实话", "用了一周", "第二次买", "朋友推荐的", ""]

EN_SUBJECTS = ["the phone", "this restaurant", "the book", "this movie", "the hotel", "the delivery", "customer service",
               "these shoes", "the laptop", "this course", "the headphones", "the shop"]
EN_PLURAL = {"these shoes", "the headphones"}
# {is}, {was} and {works} agree with the subject.
EN_POSITIVE = ["{is} excellent", "{is} great", "{was} wonderful", "{is} really good", "{was} amazing", "{works} perfectly",
               "{is} fantastic", "{was} pleasant", "{is} the best", "exceeded my expectations"]
EN_NEGATIVE = ["{is} terrible", "{is} poor", "{was} awful", "{is} really bad", "{was} horrible", "broke after a week",
               "{is} the worst", "{was} disappointing", "{is} a waste of money", "fell apart"]
EN_POSITIVE_TAILS = ["highly recommended", "would buy again", "five stars", "love it", "", ""]
EN_NEGATIVE_TAILS = ["do not buy", "never again", "one star", "returned it", "", ""]
EN_NEUTRAL_OPENERS = ["honestly", "after one week", "overall", "second time here", "a friend suggested it", ""]


def zh_review(rng, positive):
    opener = rng.choice(ZH_NEUTRAL_OPENERS)
    subject = rng.choice(ZH_SUBJECTS)
    aspect = rng.choice(ZH_ASPECTS)
    verdict = rng.choice(ZH_POSITIVE if positive else ZH_NEGATIVE)
    tail = rng.choice(ZH_POSITIVE_TAILS if positive else ZH_NEGATIVE_TAILS)
    text = f"{subject}的{aspect}{verdict}{tail}"
    return (opener + "，" + text if opener else text) + "。"


def en_review(rng, positive):
    opener = rng.choice(EN_NEUTRAL_OPENERS)
    subject = rng.choice(EN_SUBJECTS)
    plural = subject in EN_PLURAL
    verdict = rng.choice(EN_POSITIVE if positive else EN_NEGATIVE).format(
        **{"is": "are" if plural else "is", "was": "were" if plural else "was", "works": "work" if plural else "works"})
    tail = rng.choice(EN_POSITIVE_TAILS if positive else EN_NEGATIVE_TAILS)
    text = f"{subject} {verdict}"
    if opener:
        text = f"{opener}, {text}"
    if tail:
        text += f", {tail}"
    return text[0].upper() + text[1:] + "."


def build():
    rng = random.Random(SEED)
    reviews = []
    for make in (zh_review, en_review):
        for positive in (True, False):
            for _ in range(PER_CLASS_AND_LANGUAGE):
                reviews.append(("pos" if positive else "neg", make(rng, positive)))
    rng.shuffle(reviews)
    return reviews


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "data",
                                                             "reviews.tsv")
    reviews = build()
    # The words the example tracks must be where the docstring says they are.
    for label, text in reviews:
        assert ("优" in text or "良" in text) <= (label == "pos"), text
        assert ("差" in text) <= (label == "neg"), text
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# Synthetic reviews for examples/train_sentiment.cpp, written by tools/make_sentiment_corpus.py.\n")
        f.write("# Format: label<TAB>text, label pos or neg. Do not edit by hand; rerun the script instead.\n")
        for label, text in reviews:
            f.write(f"{label}\t{text}\n")
    print(f"wrote {len(reviews)} reviews to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
