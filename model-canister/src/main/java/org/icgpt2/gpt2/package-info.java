/**
 * GPT-2 inference in plain Java: runs on the JVM and, compiled by TeaVM, in the canister's Wasm.
 *
 * <pre>
 * Config config       = Config.parse(configJson);
 * Tokenizer tokenizer = Tokenizer.parse(tokenizerJson);
 * ChatFormat chat     = new ChatFormat(tokenizer);
 * Weights.Loader load = new Weights.Loader(config, Safetensors.open(tensorSource), kernels);
 * while (!load.done()) load.loadNext();                    // one tensor per step, resumable across calls
 * Gpt2 model          = new Gpt2(config, load.weights(), kernels);
 * RunState scratch    = new RunState(config, 16);          // shared by all sessions
 * Session session     = new Session(model, new KvCache(config), Sampler.create(settings, config.vocabSize()),
 *                                   chat.stopTokens(), chat.encodeInstruction(userText), maxNewTokens);
 * while (session.promptTokensLeft() &gt; 0) session.ingest(scratch, 16);
 * TokenDecoder text   = tokenizer.newDecoder(true);
 * while (!session.finished()) out.append(text.append(session.step(scratch)));
 * </pre>
 *
 * Sections: file formats ({@link org.icgpt2.gpt2.Json}, {@link org.icgpt2.gpt2.Safetensors},
 * {@link org.icgpt2.gpt2.Config}), the model ({@link org.icgpt2.gpt2.Weights}, {@link org.icgpt2.gpt2.KvCache},
 * {@link org.icgpt2.gpt2.RunState}, {@link org.icgpt2.gpt2.Gpt2}, {@link org.icgpt2.gpt2.Kernels}), text
 * ({@link org.icgpt2.gpt2.Tokenizer}, {@link org.icgpt2.gpt2.TokenDecoder}, {@link org.icgpt2.gpt2.ChatFormat}) and
 * generation ({@link org.icgpt2.gpt2.Sampler}, {@link org.icgpt2.gpt2.Session}).
 * No reflection, regex, String.format or per-token allocation, so the code stays cheap under TeaVM.
 */
package org.icgpt2.gpt2;
