#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes examples/data/tiny_vectors.txt: a small, synthetic set of word vectors in GloVe text format.

The vectors are NOT trained on any corpus. Every word is a sum of a few interpretable latent
directions (person, gender, royalty, youth, country identity, capital-vs-country, sentiment, topics
such as animals or food) plus a little word-specific noise, mapped into 32 dimensions by a random
orthogonal matrix so no single coordinate means anything on its own. That is enough for nearest
neighbours to make sense and for the classic analogies to hold by cosine similarity:

    king - man + woman   ~ queen
    paris - france + germany ~ berlin

GloVe files have no header, so the file itself cannot say it is synthetic; this docstring (and the
I/O section of docs/design.md) is where that is written down. Deterministic: numpy only, fixed seed.

Usage: python3 tools/make_tiny_vectors.py [output path]
"""

import os
import sys

import numpy as np

DIM = 32
SEED = 20240613
NOISE = 0.06  # per coordinate; a word's own noise vector has norm ~0.34
SCALE = 2.0  # GloVe-like magnitudes (real GloVe 300d norms are ~5-8)

COUNTRIES = {  # country: (capital, nationality adjective)
    "france": ("paris", "french"),
    "germany": ("berlin", "german"),
    "italy": ("rome", "italian"),
    "spain": ("madrid", "spanish"),
    "japan": ("tokyo", "japanese"),
    "china": ("beijing", "chinese"),
    "russia": ("moscow", "russian"),
    "england": ("london", "english"),
    "egypt": ("cairo", "egyptian"),
    "canada": ("ottawa", "canadian"),
}

AXES = ["person", "gender", "royal", "young", "family", "place", "capital", "nationality", "evaluative",
        "sentiment", "emotion", "animal", "food", "color", "number", "time", "verb", "body", "weather",
        "vehicle"] + ["country_" + c for c in COUNTRIES]


def people():
    """Person words: gender -1 male / +1 female, royalty, youth, family."""
    rows = [
        ("man", "woman", {}), ("boy", "girl", {"young": 1.0}), ("king", "queen", {"royal": 1.0}),
        ("prince", "princess", {"royal": 1.0, "young": 1.0}), ("father", "mother", {"family": 1.0}),
        ("son", "daughter", {"family": 1.0, "young": 0.8}), ("brother", "sister", {"family": 1.0, "young": 0.3}),
        ("husband", "wife", {"family": 0.9}), ("uncle", "aunt", {"family": 0.8}),
        ("nephew", "niece", {"family": 0.8, "young": 0.6}), ("he", "she", {}), ("him", "her", {}),
        ("gentleman", "lady", {"royal": 0.2}), ("sir", "madam", {"royal": 0.3}), ("actor", "actress", {}),
        ("waiter", "waitress", {}), ("emperor", "empress", {"royal": 1.2}), ("duke", "duchess", {"royal": 0.7}),
        ("grandfather", "grandmother", {"family": 1.0, "young": -0.8}),
    ]
    out = {}
    for male, female, extra in rows:
        for word, g in ((male, -1.0), (female, 1.0)):
            out[word] = {"person": 1.0, "gender": g, **extra}
    for word, extra in [("person", {}), ("child", {"young": 1.0}), ("baby", {"young": 1.4}), ("parent", {"family": 1.0}),
                        ("friend", {}), ("teacher", {}), ("doctor", {}), ("student", {"young": 0.5})]:
        out[word] = {"person": 1.0, **extra}
    return out


def places():
    """Country words, their capitals (+capital) and nationality adjectives."""
    out = {}
    for country, (capital, adjective) in COUNTRIES.items():
        axis = "country_" + country
        out[country] = {"place": 1.0, axis: 1.0, "capital": -0.7}
        out[capital] = {"place": 1.0, axis: 1.0, "capital": 0.7}
        out[adjective] = {"nationality": 1.0, axis: 0.8}
    for word in ["city", "country", "capital", "town", "village", "river", "mountain"]:
        out[word] = {"place": 1.0}
    return out


def sentiment():
    """Evaluative words with a signed sentiment strength; emotion words also on the emotion axis."""
    words = {"good": 0.8, "great": 1.0, "excellent": 1.1, "wonderful": 1.1, "amazing": 1.1, "fantastic": 1.1,
             "nice": 0.6, "fine": 0.4, "best": 1.2, "beautiful": 0.9, "perfect": 1.2, "pleasant": 0.6,
             "bad": -0.8, "terrible": -1.1, "awful": -1.1, "horrible": -1.1, "poor": -0.6, "worst": -1.2,
             "ugly": -0.9, "boring": -0.6, "dreadful": -1.0, "mediocre": -0.4,
             "优": 1.1, "良": 0.7, "好": 0.8, "差": -0.9, "坏": -0.9}
    out = {w: {"evaluative": 1.0, "sentiment": s} for w, s in words.items()}
    for w, s in {"happy": 0.9, "glad": 0.7, "joy": 1.0, "love": 1.0, "sad": -0.9, "angry": -0.9, "fear": -0.8,
                 "hate": -1.1}.items():
        out[w] = {"emotion": 1.0, "sentiment": s}
    return out


def topics():
    """Plain topic words: each is its topic direction plus its own noise."""
    groups = {
        "animal": ["dog", "cat", "horse", "cow", "pig", "sheep", "lion", "tiger", "bear", "wolf", "fox", "rabbit",
                   "mouse", "bird", "eagle", "fish", "shark", "whale", "duck", "chicken"],
        "food": ["apple", "banana", "orange", "bread", "cheese", "rice", "meat", "soup", "cake", "egg", "milk",
                 "coffee", "tea", "water", "wine", "sugar"],
        "color": ["red", "green", "blue", "yellow", "black", "white", "brown", "purple", "pink", "gray"],
        "number": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "hundred",
                   "thousand"],
        "time": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "march",
                 "july", "october", "morning", "evening", "night", "day", "week", "year", "today", "tomorrow"],
        "verb": ["run", "walk", "eat", "drink", "sleep", "read", "write", "speak", "sing", "swim", "think", "see",
                 "go", "come", "give", "take"],
        "body": ["head", "hand", "eye", "heart", "foot", "arm", "face", "mouth"],
        "weather": ["rain", "snow", "sun", "wind", "cloud", "storm", "cold", "hot"],
        "vehicle": ["car", "bus", "train", "plane", "ship", "bicycle", "truck", "boat"],
    }
    return {w: {topic: 1.0} for topic, words in groups.items() for w in words}


# Words built from another word's vector: young animals share their parent species' own noise.
DERIVED = {"puppy": ("dog", {"young": 1.0}), "kitten": ("cat", {"young": 1.0}), "foal": ("horse", {"young": 1.0}),
           "calf": ("cow", {"young": 1.0}), "lamb": ("sheep", {"young": 1.0}), "cub": ("lion", {"young": 1.0})}


def build():
    rng = np.random.default_rng(SEED)
    q, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    assert len(AXES) <= DIM
    direction = {name: q[:, i] for i, name in enumerate(AXES)}
    features = {}
    for part in (people(), places(), sentiment(), topics()):
        assert not set(part) & set(features), set(part) & set(features)
        features.update(part)
    vectors = {}
    for word, feats in features.items():
        v = sum(weight * direction[axis] for axis, weight in feats.items())
        vectors[word] = SCALE * (v + NOISE * rng.standard_normal(DIM))
    for word, (base, feats) in DERIVED.items():
        v = sum(weight * direction[axis] for axis, weight in feats.items())
        vectors[word] = vectors[base] + SCALE * (v + 0.5 * NOISE * rng.standard_normal(DIM))
    return vectors


def unit(v):
    return v / np.linalg.norm(v)


def analogy(vectors, a, b, c):
    """The word closest by cosine to b - a + c (unit vectors, inputs excluded), as gensim's most_similar."""
    target = unit(vectors[b]) - unit(vectors[a]) + unit(vectors[c])
    best = max((w for w in vectors if w not in (a, b, c)), key=lambda w: float(unit(vectors[w]) @ unit(target)))
    return best


def nearest(vectors, word):
    return max((w for w in vectors if w != word), key=lambda w: float(unit(vectors[w]) @ unit(vectors[word])))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "data",
                                                             "tiny_vectors.txt")
    vectors = build()
    checks = [("man", "king", "woman", "queen"), ("france", "paris", "germany", "berlin"),
              ("man", "woman", "boy", "girl"), ("italy", "rome", "spain", "madrid"), ("dog", "puppy", "cat", "kitten")]
    for a, b, c, expected in checks:
        got = analogy(vectors, a, b, c)
        assert got == expected, f"{b} - {a} + {c}: got {got}, expected {expected}"
    assert vectors["good"] @ vectors["great"] > 0 and nearest(vectors, "good") in ("great", "nice", "excellent", "wonderful",
                                                                                     "best", "perfect", "beautiful", "好")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for word, v in vectors.items():
            f.write(word + "".join(f" {x:.6f}" for x in v) + "\n")
    print(f"wrote {len(vectors)} words x {DIM} dims to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
