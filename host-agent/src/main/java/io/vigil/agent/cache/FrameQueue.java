package io.vigil.agent.cache;

import java.util.Arrays;

/**
 * A doubly linked list of frame numbers threaded through shared link arrays ({@link Links}), so moving a frame
 * between lists, or removing it from the middle, allocates nothing. A frame is in at most one list per {@link Links}.
 */
final class FrameQueue {
    /** Next/previous pointers for every frame; one instance per family of lists. */
    static final class Links {
        int[] next = new int[0];
        int[] prev = new int[0];

        void grow(int frames) {
            if (frames <= next.length) return;
            int old = next.length;
            next = Arrays.copyOf(next, frames);
            prev = Arrays.copyOf(prev, frames);
            Arrays.fill(next, old, frames, -1);
            Arrays.fill(prev, old, frames, -1);
        }
    }

    private final Links links;
    private int head = -1;
    private int tail = -1;
    private int size;

    FrameQueue(Links links) {
        this.links = links;
    }

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    int head() {
        return head;
    }

    int tail() {
        return tail;
    }

    void pushHead(int f) {
        links.prev[f] = -1;
        links.next[f] = head;
        if (head >= 0) links.prev[head] = f;
        else tail = f;
        head = f;
        size++;
    }

    void pushTail(int f) {
        links.next[f] = -1;
        links.prev[f] = tail;
        if (tail >= 0) links.next[tail] = f;
        else head = f;
        tail = f;
        size++;
    }

    int pollHead() {
        int f = head;
        if (f >= 0) remove(f);
        return f;
    }

    void remove(int f) {
        int p = links.prev[f];
        int n = links.next[f];
        if (p >= 0) links.next[p] = n;
        else head = n;
        if (n >= 0) links.prev[n] = p;
        else tail = p;
        links.prev[f] = -1;
        links.next[f] = -1;
        size--;
    }

    /** {@code replacement} takes {@code f}'s place in the order. */
    void replace(int f, int replacement) {
        int p = links.prev[f];
        int n = links.next[f];
        links.prev[replacement] = p;
        links.next[replacement] = n;
        if (p >= 0) links.next[p] = replacement;
        else head = replacement;
        if (n >= 0) links.prev[n] = replacement;
        else tail = replacement;
        links.prev[f] = -1;
        links.next[f] = -1;
    }

    void clear() {
        head = tail = -1;
        size = 0;
    }
}
