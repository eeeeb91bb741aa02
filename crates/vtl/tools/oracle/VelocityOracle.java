// Reference runner: renders cases with the real Apache Velocity 1.7 jar
// (Debian package `velocity`), used only to produce and check golden
// expectations. Not part of the Rust build. See README.md beside this file.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;
import org.apache.velocity.app.event.EventCartridge;
import org.apache.velocity.app.event.ReferenceInsertionEventHandler;

public class VelocityOracle {
    // ---- minimal JSON reader ----
    static final class J {
        final String s; int i = 0;
        J(String s) { this.s = s; }
        void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }
        Object val() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                i++; LinkedHashMap<String, Object> m = new LinkedHashMap<>();
                ws(); if (s.charAt(i) == '}') { i++; return m; }
                while (true) { ws(); String k = (String) val(); ws(); i++; /* : */ m.put(k, val()); ws();
                    if (s.charAt(i++) == '}') return m; }
            }
            if (c == '[') {
                i++; ArrayList<Object> l = new ArrayList<>();
                ws(); if (s.charAt(i) == ']') { i++; return l; }
                while (true) { l.add(val()); ws(); if (s.charAt(i++) == ']') return l; }
            }
            if (c == '"') {
                i++; StringBuilder b = new StringBuilder();
                while (true) {
                    char d = s.charAt(i++);
                    if (d == '"') return b.toString();
                    if (d == '\\') {
                        char e = s.charAt(i++);
                        switch (e) {
                            case 'n': b.append('\n'); break; case 't': b.append('\t'); break;
                            case 'r': b.append('\r'); break; case 'b': b.append('\b'); break;
                            case 'f': b.append('\f'); break;
                            case 'u': b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                            default: b.append(e);
                        }
                    } else b.append(d);
                }
            }
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int st = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String num = s.substring(st, i);
            if (num.contains(".") || num.contains("e") || num.contains("E")) return Double.valueOf(num);
            long v = Long.parseLong(num);
            if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) return Integer.valueOf((int) v);
            return Long.valueOf(v);
        }
    }
    static String q(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"') b.append("\\\""); else if (c == '\\') b.append("\\\\");
            else if (c == '\n') b.append("\\n"); else if (c == '\r') b.append("\\r"); else if (c == '\t') b.append("\\t");
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c)); else b.append(c);
        }
        return b.append('"').toString();
    }
    public static class NullAsEmpty implements ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) { return value == null ? "" : value; }
    }
    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        String in = new String(Files.readAllBytes(Paths.get(args[0])), StandardCharsets.UTF_8);
        List<Object> cases = (List<Object>) new J(in).val();
        StringBuilder out = new StringBuilder("[\n");
        boolean first = true;
        for (Object co : cases) {
            Map<String, Object> c = (Map<String, Object>) co;
            VelocityEngine ve = new VelocityEngine();
            ve.setProperty("runtime.log.logsystem.class", "org.apache.velocity.runtime.log.NullLogChute");
            ve.init();
            Map<String, Object> ctxMap = (Map<String, Object>) c.get("context");
            VelocityContext ctx = new VelocityContext();
            if (ctxMap != null) for (Map.Entry<String, Object> e : ctxMap.entrySet()) ctx.put(e.getKey(), e.getValue());
            if (Boolean.TRUE.equals(c.get("null_empty"))) {
                EventCartridge ec = new EventCartridge();
                ec.addEventHandler(new NullAsEmpty());
                ec.attachToContext(ctx);
            }
            StringWriter w = new StringWriter();
            String res, err = null;
            try {
                ve.evaluate(ctx, w, "template", (String) c.get("template"));
                res = w.toString();
            } catch (Throwable t) {
                res = null;
                err = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
            if (!first) out.append(",\n");
            first = false;
            out.append("{\"name\":").append(q((String) c.get("name")));
            if (res != null) out.append(",\"output\":").append(q(res));
            else out.append(",\"error\":").append(q(err));
            out.append("}");
        }
        out.append("\n]\n");
        System.out.print(out);
    }
}
